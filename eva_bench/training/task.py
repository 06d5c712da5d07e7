"""`TrainTask`: what a model supplies to the generic trainer (`eva_bench.training.fit`).

The trainer owns the loop (run folder, strict resume, schedule, batch order, accelerate, logs, checkpoints);
a task owns everything that depends on the model. The trainer calls, in order:

    setup()                      on every process: read the data (the accelerator is in `self.accelerator`)
    build_model()                after torch.manual_seed(seed); returns the nn.Module to train
    build_optimizer(model, lr)   default: AdamW over the parameters that require gradients
    start(model)                 new runs only (a resumed run loads its state): e.g. normalization statistics
    then for each step s:
        batch(s, indices, positions)   the samples `indices` of the step's global batch (CPU tensors)
        loss(model, batch)             a scalar tensor (the trainer averages it over micro-batches/processes)
        after_step(model, s)           after the optimizer step (e.g. an EMA of the weights)
    evaluate(model, final)       on the main process, every eval_every steps and at the end
    export(model, folder, step)  on the main process at every checkpoint: write the model checkpoint

`model` is the module as accelerate prepared it (wrapped in DistributedDataParallel under `accelerate launch`):
call it for the forward pass, and use `self.unwrap(model)` to reach its own methods and buffers. `evaluate` and
`export` get the unwrapped module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch


class TrainTask(ABC):
    """A model's part of a training run (see the module docstring for the call order).

    Class attributes:
        kind: The model family ("idm", "world_model", "lora", ...): run_config.json's kind, the progress label.
        resumable: The task's own settings that may change when a run is resumed (the trainer adds its own:
            steps, eval_every, checkpoint_every, tensorboard, threads, device).
        eval_columns: log.csv columns of `evaluate(model, final=False)`, name -> format spec (".5f").
    """

    kind: str = "model"
    resumable: tuple[str, ...] = ()
    eval_columns: dict[str, str] = {}
    accelerator: Any = None  # set by the trainer before `setup`

    def settings(self) -> dict:
        """The task's settings (JSON-serializable) for run_config.json; a resumed run must match them outside
        `resumable`. Keys shared with `TrainerConfig` must hold the same values."""
        return {}

    def setup(self) -> None:  # noqa: B027 (optional hook)
        """Read the data (called on every process, before `build_model`)."""

    @property
    @abstractmethod
    def num_samples(self) -> int:
        """Samples in the training set (the batch order permutes range(num_samples) once per epoch)."""

    @abstractmethod
    def build_model(self) -> torch.nn.Module:
        """The untrained model (torch is seeded with the run's seed just before)."""

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        """The optimizer (default: AdamW over the trainable parameters). The trainer sets each parameter
        group's lr every step to the schedule's value times the group's "lr_scale" (default 1)."""
        return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)

    def start(self, model: torch.nn.Module) -> None:  # noqa: B027 (optional hook)
        """Prepare a new run's model (e.g. statistics of the training data); not called on resume."""

    @abstractmethod
    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> Any:
        """The samples of this process's part of step `step`.

        Args:
            step: The optimizer step (for step-seeded augmentation).
            indices: Indices into the training set.
            positions: Where these samples sit in the step's global batch (to draw augmentation for the whole
                batch and take this part's rows, so the result is independent of processes / micro-batches).

        Returns:
            Tensors (or tuples / dicts of them) on the CPU; the trainer moves them to the device.
        """

    @abstractmethod
    def loss(self, model: torch.nn.Module, batch: Any) -> torch.Tensor:
        """The scalar training loss of a batch (mean over its samples)."""

    def after_step(self, model: torch.nn.Module, step: int) -> None:  # noqa: B027 (optional hook)
        """Called on every process after optimizer step `step` (0-based) updated the (unwrapped) `model`, before
        the step counts as done: state kept here must live in the model (or the optimizer) to be checkpointed."""

    def evaluate(self, model: torch.nn.Module, final: bool) -> dict | None:
        """Held-out metrics, or None without a held-out set.

        Args:
            model: The unwrapped model (in train mode; switch to eval mode and back as needed).
            final: False: the periodic evaluation, whose dict must hold the `eval_columns` keys (every number
                also goes to TensorBoard). True: the end of the run; the dict is what `fit` returns and
                metrics.json holds (beside the step and `run_info()`).
        """
        return None

    @abstractmethod
    def export(self, model: torch.nn.Module, folder: Any, step: int) -> None:
        """Write the model checkpoint of step `step` to `folder` (<out>/model), e.g. with
        `eva_bench.checkpoint.write_checkpoint`."""

    def resume_key(self) -> Any:
        """JSON data a resumed run must reproduce (e.g. the train/held-out split); stored with the state."""
        return None

    def run_info(self) -> dict:
        """Extra fields for metrics.json (e.g. the held-out episodes)."""
        return {}

    def unwrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model itself, without accelerate's distributed / compile wrappers."""
        return self.accelerator.unwrap_model(model) if self.accelerator is not None else model


class ConfiguredTask(TrainTask, ABC):
    """A `TrainTask` whose settings are one config dataclass with `to_dict()` (every eva-bench model's).

    Args:
        config: The run's settings (trainer and model).
    """

    def __init__(self, config: Any) -> None:
        self.config = config

    def settings(self) -> dict:
        return self.config.to_dict()
