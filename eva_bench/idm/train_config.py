"""`TrainConfig`: the settings of one IDM training run (`eva-bench train idm` takes its defaults and help texts
from here). Kept free of torch so the command line starts fast; `eva_bench.idm.train` does the training."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from eva_bench.errors import UserError
from eva_bench.training.config import TrainerConfig

if TYPE_CHECKING:
    from eva_bench.idm.model import IDM

POOLINGS = ("spatial_softmax", "avg")  # the paper's IDM, and the Table S2 ablation


@dataclass(kw_only=True)
class TrainConfig(TrainerConfig):
    """One IDM training run: the generic trainer's settings (`TrainerConfig`, documented there) and the IDM's.

    Args:
        data: Folder of episode files (ours or RoboTwin 2.0's), searched recursively.
        out: Run folder: the model lands in out/model, the resumable state in out/state (docs/training.md); an
            existing run there is resumed.
        steps: Optimizer steps in total (the IDM's default: 2,000).
        preset: Model size, "tiny" (2 CPU cores) or "paper" (the paper's shapes).
        pooling: "spatial_softmax" (the paper's IDM) or "avg" (the Table S2 ablation).
        context: k: the model sees frames t-k .. t+k.
        resolution: (width, height) of the model's input; None keeps the preset's.
        model: Further IDM constructor arguments overriding the preset (e.g. {"keypoints": 64}).
        camera: Camera whose frames are used.
        tasks: Train only on these tasks (None: every episode under `data`).
        holdout: Fraction of episodes held out for evaluation (by episode, at least one when possible).
        split_seed: Seed of the held-out split.
        weight_decay: AdamW weight decay.
        shift: Random-shift augmentation: the window is translated by up to this many pixels (0: off).
        eval_samples: Held-out samples used by those evaluations, evenly spread (0: all); the final one uses all.
        cache_mb: Decoded frames are cached in memory up to this many MiB (beyond, decoded per sample).
        init: An IDM checkpoint whose weights and action statistics start a new run (fine-tuning, e.g. on demos
            re-rendered through a world model's autoencoder, `eva-bench export reconstructed`); the model
            settings (preset, pooling, context, resolution) must match it. Empty: random weights.
    """

    data: str
    preset: str = "tiny"
    pooling: str = "spatial_softmax"
    context: int = 2
    resolution: tuple[int, int] | None = None
    model: dict = field(default_factory=dict)
    camera: str = "head_camera"
    tasks: list[str] | None = None
    holdout: float = 0.1
    split_seed: int = 0
    steps: int = 2000
    weight_decay: float = 1e-4
    shift: int = 4
    eval_samples: int = 1024
    cache_mb: int = 2048
    init: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()  # the generic settings are checked where they are defined
        self.data = str(Path(self.data).resolve())
        if self.init:
            self.init = str(Path(self.init).resolve())
        if self.resolution is not None:
            self.resolution = (int(self.resolution[0]), int(self.resolution[1]))
        from eva_bench.idm.model import PRESETS

        if self.preset not in PRESETS:
            raise UserError(f"unknown IDM preset {self.preset!r}; presets: {sorted(PRESETS)}")
        if self.pooling not in POOLINGS:
            raise UserError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        if self.shift < 0:
            raise UserError(f"shift must be >= 0, got {self.shift}")

    def model_kwargs(self) -> dict:
        """The IDM constructor arguments this config describes (the preset's, overridden)."""
        from eva_bench.idm.model import PRESETS

        overrides = {"pooling": self.pooling, "context": self.context, **self.model}
        if self.resolution is not None:
            overrides.update(width=self.resolution[0], height=self.resolution[1])
        return {**asdict(PRESETS[self.preset]), **overrides}

    def build_model(self) -> IDM:
        """The untrained model this config describes."""
        from eva_bench.idm.model import IDM

        return IDM(**self.model_kwargs())

    def trainer_config(self) -> TrainerConfig:
        """The generic trainer's part of this config."""
        return TrainerConfig(**{f.name: getattr(self, f.name) for f in fields(TrainerConfig)})

    def to_dict(self) -> dict:
        data = asdict(self)
        data["resolution"] = list(self.resolution) if self.resolution else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
