"""`ChunkTrainConfig`: the settings every imitation baseline trained on demos shares (ACT, DP): data, presets,
tasks (RoboTwin's one model per task, or one task-conditioned model), model overrides and the held-out split.
Free of torch, so the command line starts fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import ClassVar

from eva_bench.errors import UserError
from eva_bench.training.config import TrainerConfig


@dataclass(kw_only=True)
class ChunkTrainConfig(TrainerConfig):
    """One training run of an action-chunk policy on expert demos (the subclass adds its model's settings).

    Args:
        data: Folder of episode files (ours or RoboTwin 2.0's), searched recursively.
        out: Run folder (the model lands in out/model; an existing run there is resumed).
        preset: A name of the model's presets; it sets the model and the trainer values left at 0 / None.
        tasks: The task(s) to train on. One, by RoboTwin's protocol; several only with `multi_task`.
        multi_task: Train one task-conditioned model on every task given (or found).
        model: Constructor arguments of the model overriding the preset's.
        weight_decay: AdamW weight decay.
        holdout: Fraction of episodes held out for evaluation.
        split_seed: Seed of the held-out split.
        eval_samples: Held-out samples per periodic evaluation (evenly spread).
        cache_mb: Decoded frames are cached in memory up to this many MiB (per camera).
    """

    # Class attributes of a subclass: the model's name in messages, its presets, the keys `model` may set and
    # the trainer fields a preset fills when left at 0 / None.
    label: ClassVar[str] = "model"
    presets: ClassVar[dict] = {}
    model_keys: ClassVar[frozenset] = frozenset()
    preset_fields: ClassVar[tuple[str, ...]] = ("steps", "batch_size", "lr", "weight_decay")

    data: str
    preset: str = "tiny"
    tasks: list[str] | None = None
    multi_task: bool = False
    model: dict = field(default_factory=dict)
    weight_decay: float | None = None
    holdout: float = 0.1
    split_seed: int = 0
    eval_samples: int = 256
    cache_mb: int = 2048
    steps: int = 0
    batch_size: int = 0
    lr: float = 0.0
    warmup: int = 500
    eval_every: int = 500
    checkpoint_every: int = 500
    max_grad_norm: float = 10.0

    def __post_init__(self) -> None:
        if self.preset not in self.presets:
            raise UserError(f"unknown {self.label} preset {self.preset!r}; presets: {', '.join(sorted(self.presets))}")
        preset = self.presets[self.preset]
        for name in self.preset_fields:
            if not getattr(self, name):  # 0 / None: the preset's
                setattr(self, name, preset[name])
        super().__post_init__()
        self.data = str(Path(self.data).resolve())
        unknown = set(self.model) - self.model_keys
        if unknown:
            raise UserError(f"unknown {self.label} settings {sorted(unknown)} (the tasks come from the data)")
        if self.tasks is not None and len(self.tasks) > 1 and not self.multi_task:
            raise UserError(f"{self.label} trains one task per model by RoboTwin's protocol: give one task, or "
                            "--multi-task")
        if self.eval_samples < 1 or not 0 <= self.holdout < 1:
            raise UserError("eval_samples must be >= 1 and holdout in [0, 1)")

    def model_kwargs(self, tasks: list[str]) -> dict:
        """The model's constructor arguments: the preset's, the overrides, the task list of a multi-task model."""
        return {**self.presets[self.preset]["model"], **self.model, "tasks": sorted(tasks) if self.multi_task else []}

    def trainer_config(self) -> TrainerConfig:
        return TrainerConfig(**{f.name: getattr(self, f.name) for f in fields(TrainerConfig)})

    def to_dict(self) -> dict:
        return asdict(self)
