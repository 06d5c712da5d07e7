"""`fit(task, config)`: the one training loop of eva-bench, on accelerate.

The loop is the same for every model (a `TrainTask` supplies the model-specific parts) and for one process or
many (`accelerate launch`):

* step s uses the learning rate `warmup_cosine(s)` and the global batch `batch_indices(s)`; with P processes
  and G micro-batches, micro-batch m of process p takes part m * P + p of it (`shard_positions`), so the run
  depends only on the seed (and, through float rounding of the gradient all-reduce, on P and G);
* gradients accumulate over the G micro-batches (`accelerator.accumulate`), are all-reduced across processes
  (DistributedDataParallel), optionally clipped, then the optimizer steps;
* every `eval_every` steps the main process evaluates and appends a row to log.csv (and TensorBoard);
* every `checkpoint_every` steps, at the last step of the call and on Ctrl-C (one process only) the state is
  saved (`eva_bench.training.state`) and the main process exports the model to <out>/model.

Only the main process writes the settings snapshot, logs, metrics and model; every process writes its part of
the state. A resumed run takes the same steps as an uninterrupted one: the bit-identical weights and log rows
are tested (tests/test_idm.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from eva_bench.errors import UserError
from eva_bench.training import state as state_io
from eva_bench.training.config import RESUMABLE, TrainerConfig
from eva_bench.training.logs import CsvLog, TensorBoardLog, require_tensorboard
from eva_bench.training.run_folder import RunFolder
from eva_bench.training.sampling import batch_indices, shard_positions
from eva_bench.training.schedule import warmup_cosine
from eva_bench.training.task import TrainTask

BASE_COLUMNS = ("step", "epoch", "lr", "train_loss")
END_COLUMNS = ("samples_per_s", "time")


@dataclass
class FitResult:
    """What `fit` did.

    Args:
        out: The run folder.
        step: The step reached.
        metrics: The task's final metrics (None before the last step, without a held-out set, and on processes
            other than the main one).
        samples_per_s: Training throughput of this call (global samples per second, evaluation excluded).
        main_process: Whether this process is the main one (the one that writes logs, metrics and the model).
    """

    out: Path
    step: int
    metrics: dict | None
    samples_per_s: float
    main_process: bool = True


def fit(task: TrainTask, config: TrainerConfig, progress: bool = True, stop_after: int | None = None) -> FitResult:
    """Train (or resume training) `task`'s model as `config` says.

    Args:
        task: The model's part (see `TrainTask`).
        config: The trainer's settings; `task.settings()` adds the model's to the run's snapshot.
        progress: Show a tqdm progress bar (main process).
        stop_after: Stop (with a checkpoint) after this many steps of this call, as if interrupted.

    Raises:
        UserError: `config.out` holds a run with other settings, a corrupt state, an older run format; the
            batch does not split over processes x micro-batches; TensorBoard asked for but not installed.
    """
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        with _accelerator(config) as accelerator:
            task.accelerator = accelerator
            return _Loop(task, config, accelerator).run(progress, stop_after)
    finally:
        torch.set_num_threads(threads)


def run_settings(task: TrainTask, config: TrainerConfig) -> dict:
    """The run's settings snapshot: the trainer's and the task's (which must agree where both have a key)."""
    trainer, own = config.to_dict(), task.settings()
    clash = {k: (trainer[k], v) for k, v in own.items() if k in trainer and trainer[k] != v}
    if clash:
        raise ValueError(f"{type(task).__name__}.settings() disagrees with the TrainerConfig: {clash}")
    return {**trainer, **own}


@contextlib.contextmanager
def _accelerator(config: TrainerConfig):
    """An `accelerate.Accelerator` for `config`; the process-wide accelerate state it created is reset when
    the run ends (outside `accelerate launch`), so a later run in this process may use other settings."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState, PartialState

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {config.device!r}: CUDA is not available here (torch {torch.__version__})")
    fresh = not PartialState._shared_state, not AcceleratorState._shared_state
    env = os.environ.get("ACCELERATE_TORCH_DEVICE")
    if not distributed and config.device not in ("cpu", "cuda"):
        os.environ["ACCELERATE_TORCH_DEVICE"] = config.device  # e.g. cuda:1 (one process)

    def reset() -> None:
        if not distributed:
            if fresh[1]:
                AcceleratorState._reset_state()
                GradientState._reset_state()
            if fresh[0]:
                PartialState._reset_state()

    try:
        accelerator = Accelerator(cpu=config.device == "cpu", mixed_precision=config.mixed_precision,
                                  gradient_accumulation_steps=config.grad_accum)
    except ValueError as error:  # e.g. fp16 on a CPU, or a process-wide state set up with other settings
        reset()
        raise UserError(f"accelerate: {error}") from error
    finally:
        if env is None:
            os.environ.pop("ACCELERATE_TORCH_DEVICE", None)
        else:
            os.environ["ACCELERATE_TORCH_DEVICE"] = env
    try:
        yield accelerator
    finally:
        accelerator.free_memory()
        reset()


class _Loop:
    """One call of `fit` (state shared by its phases)."""

    def __init__(self, task: TrainTask, config: TrainerConfig, accelerator) -> None:
        self.task, self.config, self.acc = task, config, accelerator
        self.run_folder = RunFolder(config.out)
        self.main = accelerator.is_main_process
        self.log = CsvLog(self.run_folder.log_path, (*BASE_COLUMNS, *task.eval_columns, *END_COLUMNS))
        self.tensorboard: TensorBoardLog | None = None

    def run(self, progress: bool, stop_after: int | None) -> FitResult:
        task, config, acc = self.task, self.config, self.acc
        processes = acc.num_processes
        try:
            shard_positions(config.batch_size, processes, config.grad_accum, 0, 0)
        except ValueError as error:
            raise UserError(str(error)) from None
        settings = run_settings(task, config)
        resuming = self.run_folder.check(task.kind, settings, {*RESUMABLE, *task.resumable})
        if config.tensorboard and self.main:
            require_tensorboard()  # fail before reading the data, not after
        task.setup()
        count = task.num_samples
        if count < 1:
            raise UserError("the training set is empty")

        torch.manual_seed(config.seed)
        model = task.build_model()
        optimizer = task.build_optimizer(model, config.lr)
        model, optimizer = acc.prepare(model, optimizer)
        self.model, self.optimizer = model, optimizer
        found = state_io.find(self.run_folder.state_dir) if resuming else None
        step, self.pending = 0, []
        if found is not None:
            info = state_io.load(acc, found)
            if info.get("resume_key") != json.loads(json.dumps(task.resume_key())):
                raise UserError(f"the training data changed since the run in {config.out} started (its "
                                "train/held-out split differs); give another --out")
            step, self.pending = int(info["step"]), [float(v) for v in info.get("losses", [])]
        else:
            task.start(acc.unwrap_model(model))
        if self.main:
            self.run_folder.out.mkdir(parents=True, exist_ok=True)
            self.run_folder.write_config(task.kind, settings)
            self.log.truncate(step)
            if config.tensorboard:
                self.tensorboard = TensorBoardLog(self.run_folder.tensorboard_dir, purge_step=step + 1)
        acc.wait_for_everyone()
        try:
            step, rate = self._steps(step, count, progress, stop_after)
        finally:
            if self.tensorboard is not None:
                self.tensorboard.close()
        metrics = None
        if step >= config.steps and self.main:
            with torch.no_grad():
                metrics = task.evaluate(acc.unwrap_model(model), final=True)
            if metrics is not None:
                self.run_folder.write_metrics({"step": step, **task.run_info(), **metrics})
        acc.wait_for_everyone()
        return FitResult(self.run_folder.out, step, metrics, rate, self.main)

    def _steps(self, step: int, count: int, progress: bool, stop_after: int | None) -> tuple[int, float]:
        """The optimizer steps of this call; (the step reached, samples per second)."""
        from tqdm import tqdm

        task, config, acc, model, optimizer = self.task, self.config, self.acc, self.model, self.optimizer
        processes, rank, accumulation = acc.num_processes, acc.process_index, config.grad_accum
        end = config.steps if stop_after is None else min(config.steps, step + stop_after)
        model.train()
        losses = self.pending  # training losses of the steps since the last log row (kept in the state)
        first_step, busy, consistent = step, 0.0, True  # busy: seconds in training steps (not evaluation)
        bar = tqdm(total=config.steps, initial=step, disable=not (progress and self.main), desc=task.kind,
                   unit="step")
        try:
            while step < end:
                started = time.perf_counter()
                lr = warmup_cosine(step, config.lr, config.warmup, config.steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr * group.get("lr_scale", 1.0)
                indices = batch_indices(step, config.batch_size, count, config.seed)
                micro_losses = []
                for micro in range(accumulation):
                    positions = shard_positions(config.batch_size, processes, accumulation, micro, rank)
                    batch = _to_device(task.batch(step, indices[positions], positions), acc.device)
                    with acc.accumulate(model):
                        with acc.autocast():
                            loss = task.loss(model, batch)
                        acc.backward(loss)
                        if acc.sync_gradients:
                            if config.max_grad_norm:
                                acc.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                            consistent = False  # the weights move on before the step count does
                        optimizer.step()
                        optimizer.zero_grad(set_to_none=True)
                    micro_losses.append(loss.item())
                task.after_step(acc.unwrap_model(model), step)
                losses.append(sum(micro_losses) / len(micro_losses))
                step, consistent = step + 1, True
                busy += time.perf_counter() - started
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.4f}")
                if step % config.eval_every == 0 or step == config.steps:
                    self._log(step, count, lr, losses, (step - first_step) * config.batch_size / busy)
                    losses = []
                if step % config.checkpoint_every == 0 or step == end:
                    self._checkpoint(step, losses)
        except KeyboardInterrupt:
            if consistent and processes == 1:
                self._checkpoint(step, losses)
            raise
        finally:
            bar.close()
        return step, (step - first_step) * config.batch_size / max(busy, 1e-9)

    def _log(self, step: int, count: int, lr: float, losses: list[float], rate: float) -> None:
        """One evaluation: a log.csv row (and TensorBoard scalars) on the main process."""
        train_loss = float(np.mean(losses)) if losses else None
        if self.acc.num_processes > 1 and losses:  # the mean over processes (equal-sized parts)
            local = torch.tensor([train_loss], dtype=torch.float64, device=self.acc.device)
            train_loss = float(self.acc.gather(local).mean())
        if self.main:
            row = {"step": step, "epoch": round(step * self.config.batch_size / count, 3), "lr": f"{lr:.3g}",
                   "train_loss": f"{train_loss:.5f}" if train_loss is not None else "",
                   "samples_per_s": f"{rate:.1f}", "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            with torch.no_grad():
                metrics = self.task.evaluate(self.acc.unwrap_model(self.model), final=False)
            if metrics is not None:
                row.update({k: format(metrics[k], spec) for k, spec in self.task.eval_columns.items()})
            self.log.append(row)
            if self.tensorboard is not None:
                self.tensorboard.scalars(step, {"train/loss": train_loss, "train/lr": lr, "train/samples_per_s": rate})
                self.tensorboard.scalars(step, metrics or {}, prefix="eval/")
        self.acc.wait_for_everyone()

    def _checkpoint(self, step: int, losses: list[float]) -> None:
        """Save the resumable state (every process) and export the model (main process); `losses`: the
        training losses not yet in a log row (so that a resumed run logs the same means)."""
        info = {"step": step, "processes": self.acc.num_processes, "losses": losses,
                "resume_key": self.task.resume_key()}
        state_io.save(self.acc, self.run_folder.state_dir, info)
        if self.main:
            self.task.export(self.acc.unwrap_model(self.model), self.run_folder.model_dir, step)
        self.acc.wait_for_everyone()


def _to_device(batch, device: torch.device):
    from accelerate.utils import send_to_device

    return send_to_device(batch, device)
