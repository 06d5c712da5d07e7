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


@dataclass
class TrainConfig:
    """One IDM training run.

    Args:
        data: Folder of episode files (ours or RoboTwin 2.0's), searched recursively.
        out: Run folder: the model lands in out/model, the resumable state in out/state (docs/training.md); an
            existing run there is resumed.
        preset: Model size, "tiny" (2 CPU cores) or "paper" (the paper's shapes).
        pooling: "spatial_softmax" (the paper's IDM) or "avg" (the Table S2 ablation).
        context: k: the model sees frames t-k .. t+k.
        resolution: (width, height) of the model's input; None keeps the preset's.
        model: Further IDM constructor arguments overriding the preset (e.g. {"keypoints": 64}).
        camera: Camera whose frames are used.
        tasks: Train only on these tasks (None: every episode under `data`).
        holdout: Fraction of episodes held out for evaluation (by episode, at least one when possible).
        split_seed: Seed of the held-out split.
        seed: Seed of the initialization, data order and augmentation.
        steps: Optimizer steps in total.
        batch_size: Samples per step (over all processes and micro-batches).
        lr: Peak AdamW learning rate (linear warm-up, then cosine decay to lr / 10 at `steps`).
        warmup: Warm-up steps.
        weight_decay: AdamW weight decay.
        shift: Random-shift augmentation: the window is translated by up to this many pixels (0: off).
        eval_every: Steps between held-out evaluations (each adds a row to log.csv).
        eval_samples: Held-out samples used by those evaluations, evenly spread (0: all); the final one uses all.
        checkpoint_every: Steps between checkpoints.
        cache_mb: Decoded frames are cached in memory up to this many MiB (beyond, decoded per sample).
        threads: Torch CPU threads during training (0: leave torch's setting). On a machine whose cores are
            busy with other work, 1 is often several times faster than oversubscribed threads.
        device: Torch device to train on ("cpu", "cuda", "cuda:1", ...; "cuda" under `accelerate launch`).
        grad_accum: Micro-batches per step (gradient accumulation); batch_size must divide evenly.
        mixed_precision: "no", "bf16" or "fp16".
        tensorboard: Also write TensorBoard event files to out/tensorboard (needs `eva-bench[tensorboard]`).
    """

    data: str
    out: str
    preset: str = "tiny"
    pooling: str = "spatial_softmax"
    context: int = 2
    resolution: tuple[int, int] | None = None
    model: dict = field(default_factory=dict)
    camera: str = "head_camera"
    tasks: list[str] | None = None
    holdout: float = 0.1
    split_seed: int = 0
    seed: int = 0
    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 1e-4
    shift: int = 4
    eval_every: int = 250
    eval_samples: int = 1024
    checkpoint_every: int = 250
    cache_mb: int = 2048
    threads: int = 0
    device: str = "cpu"
    grad_accum: int = 1
    mixed_precision: str = "no"
    tensorboard: bool = False

    def __post_init__(self) -> None:
        self.data, self.out = str(Path(self.data).resolve()), str(Path(self.out).resolve())
        if self.resolution is not None:
            self.resolution = (int(self.resolution[0]), int(self.resolution[1]))
        from eva_bench.idm.model import PRESETS

        if self.preset not in PRESETS:
            raise UserError(f"unknown IDM preset {self.preset!r}; presets: {sorted(PRESETS)}")
        if self.pooling not in POOLINGS:
            raise UserError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        if self.shift < 0:
            raise UserError(f"shift must be >= 0, got {self.shift}")
        self.trainer_config()  # the generic settings are checked where they are defined

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
        return TrainerConfig(
            out=self.out, steps=self.steps, batch_size=self.batch_size, lr=self.lr, warmup=self.warmup,
            seed=self.seed, eval_every=self.eval_every, checkpoint_every=self.checkpoint_every,
            grad_accum=self.grad_accum, mixed_precision=self.mixed_precision, tensorboard=self.tensorboard,
            threads=self.threads, device=self.device,
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["resolution"] = list(self.resolution) if self.resolution else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
