"""`TrainerConfig`: the settings the generic trainer itself reads (the model's own settings live with the model)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from eva_bench.errors import UserError

MIXED_PRECISIONS = ("no", "bf16", "fp16")
# Settings that may differ when a run is resumed: they do not change which optimizer steps the run takes.
# (`steps` does change the cosine schedule of the steps still to come: extending a finished run continues it
# with the new schedule, which is not the same model as a run started with the larger `steps`.)
RESUMABLE = ("out", "steps", "eval_every", "checkpoint_every", "tensorboard", "threads", "device")


@dataclass
class TrainerConfig:
    """The generic part of a training run.

    Args:
        out: The run folder (see `eva_bench.training.run_folder`); an existing run there is resumed.
        steps: Optimizer steps in total.
        batch_size: Samples per optimizer step, over all processes and micro-batches (the global batch).
        lr: Peak learning rate (linear warm-up, then cosine decay to lr / 10 at `steps`).
        warmup: Warm-up steps.
        seed: Seed of the initialization and of the batch order (the model adds its own uses, e.g. augmentation).
        eval_every: Steps between held-out evaluations (each adds a row to log.csv).
        checkpoint_every: Steps between checkpoints (resumable state + model).
        grad_accum: Micro-batches per optimizer step (gradient accumulation); batch_size must be divisible by
            grad_accum x processes.
        mixed_precision: "no", "bf16" or "fp16" (accelerate's autocast; fp16 adds a gradient scaler).
        max_grad_norm: Clip the gradient norm to this value before each optimizer step (0: no clipping).
        tensorboard: Also write TensorBoard event files (needs the `tensorboard` package).
        threads: Torch CPU threads per process (0: leave torch's setting).
        device: "cpu", "cuda" or "cuda:N". Under `accelerate launch` each process takes its own GPU (give
            "cuda"); "cpu" keeps every process on the CPU.
    """

    out: str
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 100
    seed: int = 0
    eval_every: int = 250
    checkpoint_every: int = 250
    grad_accum: int = 1
    mixed_precision: str = "no"
    max_grad_norm: float = 0.0
    tensorboard: bool = False
    threads: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.out = str(Path(self.out).resolve())
        for name in ("steps", "batch_size", "eval_every", "checkpoint_every", "grad_accum"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.warmup < 0 or self.max_grad_norm < 0 or self.threads < 0:
            raise UserError("lr must be > 0; warmup, max_grad_norm and threads >= 0")
        if self.mixed_precision not in MIXED_PRECISIONS:
            raise UserError(f"mixed precision must be one of {', '.join(MIXED_PRECISIONS)}, "
                            f"got {self.mixed_precision!r}")

    def to_dict(self) -> dict:
        return asdict(self)
