"""Training and evaluation of the IDM on episode files (EVA paper, section 4.1, eq. 3: L2 regression).

`train(config)` fits an `IDM` on the episodes under `config.data`, holding out whole episodes for evaluation.
It runs on the shared trainer (`eva_bench.training`): `IDMTraining` is the IDM's `TrainTask`. Everything it
writes lives in the run folder `config.out` (layout: `eva_bench.training.run_folder`):

    model/            the latest model, an IDM checkpoint (`IDM.load(out)` and `read_checkpoint(out)` find it);
                      its provenance names the data folder, tasks, episodes, camera and the source resolution
    run_config.json   the TrainConfig (a resumed run must match it, see RESUMABLE_CHANGES)
    state/            the resumable state (accelerate: weights, AdamW state dict, RNG states; the step)
    log.csv           one row per evaluation: step, epoch, lr, losses, held-out MAE and accuracy, training
                      throughput of the current call (samples/s, evaluation excluded)
    metrics.json      the final held-out metrics and the held-out episodes
    tensorboard/      with `tensorboard=True`

Resumable: a checkpoint is written every `checkpoint_every` steps (and on Ctrl-C); running again with the same
config continues from it. The data order and the augmentation of step s depend only on (seed, s), and the
learning rate only on s, so a resumed run takes the same steps as an uninterrupted one. Under
`accelerate launch` the processes split every step's batch (see docs/training.md).

Metrics (`action_metrics`, `evaluate`): per-dimension mean absolute error and the paper's test accuracy, the
fraction of predicted action dimensions within +-0.05 of the ground truth: rad for the joints, and the same 0.05
on the grippers' own normalized [0, 1] scale (1 = open).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from eva_bench.checkpoint import make_provenance
from eva_bench.data.batches import WindowBatches
from eva_bench.data.dataset import FrameWindows, training_split
from eva_bench.errors import UserError
from eva_bench.idm.model import IDM
from eva_bench.idm.train_config import TrainConfig
from eva_bench.sim.cameras import view_digest
from eva_bench.sim.embodiment import JOINT_INDICES, PIPER_BIMANUAL
from eva_bench.training import RESUMABLE, ConfiguredTask, fit, warmup_cosine
from eva_bench.training.sampling import batch_indices

__all__ = [
    "ACCURACY_THRESHOLD", "RESUMABLE_CHANGES", "IDMTraining", "TrainConfig", "TrainResult", "WindowBatches",
    "action_metrics", "batch_indices", "evaluate", "learning_rate", "random_shift", "shift_windows", "train",
]

ACCURACY_THRESHOLD = 0.05
# Fields that may change when a run is resumed (they do not change what the finished model is).
RESUMABLE_CHANGES = tuple(sorted({*RESUMABLE, "eval_samples", "cache_mb"}))
HELD_OUT_IN_PROVENANCE = 100  # list the held-out episodes in the checkpoint's provenance up to this many


@dataclass
class TrainResult:
    """What `train` did: the output folder, the step reached, the final held-out metrics (None without a
    held-out episode, and on processes other than the main one under `accelerate launch`), the training
    throughput of this run in samples per second, and whether this is the main process (the one that writes)."""

    out: Path
    step: int
    metrics: dict | None
    samples_per_s: float
    main_process: bool = True


# ---------------------------------------------------------------------------------------------------- data
def random_shift(frames: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Translate every window (B, N, 3, H, W) by a random offset of up to `pad` pixels (edge-replicated)."""
    if pad == 0:
        return frames
    return shift_windows(frames, torch.randint(0, 2 * pad + 1, (len(frames), 2), generator=generator), pad)


def shift_windows(frames: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Translate window i of (B, N, 3, H, W) by offsets[i] = (dy, dx) - pad pixels (edge-replicated)."""
    if pad == 0:
        return frames
    b, n, c, h, w = frames.shape
    padded = torch.nn.functional.pad(frames.reshape(b, n * c, h, w).float(), (pad,) * 4, mode="replicate")
    out = torch.stack([padded[i, :, y:y + h, x:x + w] for i, (y, x) in enumerate(offsets.tolist())])
    return out.reshape(b, n, c, h, w).to(torch.uint8)


# ---------------------------------------------------------------------------------------------------- metrics
def action_metrics(predicted: np.ndarray, target: np.ndarray, threshold: float = ACCURACY_THRESHOLD) -> dict:
    """Per-dimension MAE, the paper's test accuracy, and the finer measures that see the errors that fail tasks.

    The paper's accuracy counts a dimension within +-0.05 (rad, or normalized gripper units) as right; tasks fail
    at about 0.01 rad of slow joint error (docs/robustness.md), so the arm joints' accuracy at +-0.01 rad and the
    distance between the predicted and the true tool centre points (forward kinematics) are reported too.

    Returns:
        {"samples": N, "mae": [14], "mae_mean": float, "accuracy": fraction of all N * 14 dimensions within
        +-threshold, "accuracy_per_dim": [14], "joint_accuracy_0.01": fraction of the 12 arm-joint values within
        +-0.01 rad, "tip_error_cm": mean TCP distance over both arms, "tip_error_p90_cm": its 90th percentile}.
    """
    from eva_bench.sim.kinematics import tip_errors

    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    error = np.abs(predicted - target)
    within = error <= threshold
    tips = 100.0 * tip_errors(predicted, target) if len(error) else np.zeros((0, 2))
    return {
        "samples": int(len(error)),
        "mae": error.mean(0).tolist(),
        "mae_mean": float(error.mean()),
        "accuracy": float(within.mean()),
        "accuracy_per_dim": within.mean(0).tolist(),
        "joint_accuracy_0.01": float((error[:, JOINT_INDICES] <= 0.01).mean()),
        "tip_error_cm": float(tips.mean()) if tips.size else float("nan"),
        "tip_error_p90_cm": float(np.percentile(tips, 90)) if tips.size else float("nan"),
    }


@torch.no_grad()
def evaluate(model: IDM, data: Sequence[os.PathLike] | WindowBatches, camera: str = "head_camera",
             batch_size: int = 64, max_samples: int = 0) -> dict:
    """Held-out metrics of `model` on episode files (or prepared batches): `action_metrics` plus "loss", the
    mean squared error in normalized units (the training loss).

    Args:
        model: The IDM.
        data: Episode files, or a `WindowBatches` built for this model.
        camera: Camera of the episode files.
        batch_size: Samples per forward pass.
        max_samples: Evaluate this many samples evenly spread over the set (0: all).
    """
    if not isinstance(data, WindowBatches):
        k = model.config["context"]
        size = (model.config["width"], model.config["height"])
        data = WindowBatches(FrameWindows(list(data), camera, k, k, (0,), size))
    count = len(data)
    items = np.arange(count) if not max_samples or max_samples >= count else \
        np.linspace(0, count - 1, max_samples).round().astype(np.int64)
    was_training = model.training
    model.eval()
    predicted, target, losses = [], [], []
    device = model.action_mean.device
    for start in range(0, len(items), batch_size):
        frames, actions = data.batch(items[start:start + batch_size])
        out = model(frames.to(device))
        losses.append(((out - model.normalize(actions.to(device))) ** 2).mean(1).cpu())
        predicted.append(model.denormalize(out).cpu().numpy())
        target.append(actions.numpy())
    model.train(was_training)
    metrics = action_metrics(np.concatenate(predicted), np.concatenate(target))
    metrics["loss"] = float(torch.cat(losses).mean())
    return metrics


# ---------------------------------------------------------------------------------------------------- training
def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warm-up to `lr`, then cosine decay to lr / 10 at `steps` (`eva_bench.training.warmup_cosine`)."""
    return warmup_cosine(step, config.lr, config.warmup, config.steps)


class IDMTraining(ConfiguredTask):
    """The IDM's part of a training run (`eva_bench.training.TrainTask`): episode windows, the L2 loss in
    normalized action units, held-out MAE / accuracy, the IDM checkpoint with its data provenance.

    Args:
        config: The run.
    """

    kind = "idm"
    resumable = ("eval_samples", "cache_mb")
    eval_columns = {"val_loss": ".5f", "val_mae": ".5f", "val_accuracy": ".4f"}

    def setup(self) -> None:
        config = self.config
        train_paths, val_paths = training_split(config.data, config.tasks, config.holdout, config.split_seed)
        self.split = {"train": [str(p) for p in train_paths], "val": [str(p) for p in val_paths]}
        kwargs = config.model_kwargs()
        k, size = kwargs["context"], (kwargs["width"], kwargs["height"])
        self.train_data = WindowBatches(FrameWindows(train_paths, config.camera, k, k, (0,), size), config.cache_mb)
        self.val_data = WindowBatches(FrameWindows(val_paths, config.camera, k, k, (0,), size), config.cache_mb) \
            if val_paths else None
        root = Path(config.data).parent if Path(config.data).is_file() else Path(config.data)
        self.held_out = [str(Path(p).relative_to(root)) for p in val_paths]  # portable: relative to the data
        self.data_info = {
            "folder": config.data,
            "tasks": sorted(set(self.train_data.windows.tasks)),
            "camera": config.camera,
            # The view the frames were recorded from, if they come from this layout (else the episodes' own
            # embodiment digest tells): the reward warns when it decodes videos of another view.
            "view": view_digest(config.camera) if {str(e.attrs.get("embodiment", "")) for e in
                                                   self.train_data.windows.episodes} == {PIPER_BIMANUAL.digest()}
            else "",
            "train_episodes": len(train_paths),
            "held_out_episodes": len(val_paths),
            # As stored in the episode files, before resizing: what idm.scoring renders reward videos at.
            "resolution": list(self.train_data.windows.frame_size(0)),
        }
        if len(self.held_out) <= HELD_OUT_IN_PROVENANCE:
            self.data_info["held_out"] = self.held_out

    @property
    def num_samples(self) -> int:
        return len(self.train_data)

    def build_model(self) -> IDM:
        return self.config.build_model()

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=self.config.weight_decay)

    def start(self, model: IDM) -> None:
        if not self.config.init:
            model.set_action_stats(self.train_data.windows.all_actions())
            return
        from eva_bench.checkpoint import CheckpointError, read_checkpoint

        try:  # its weights and its action statistics, which those weights' outputs are scaled by
            model.load_checkpoint_weights(read_checkpoint(self.config.init, IDM.kind))
        except CheckpointError as error:
            raise UserError(f"--init: {error}") from None

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        frames, actions = self.train_data.batch(indices)
        pad = self.config.shift
        if pad:  # offsets drawn for the whole global batch, this part's rows taken
            generator = torch.Generator().manual_seed(self.config.seed * 1_000_003 + step)
            offsets = torch.randint(0, 2 * pad + 1, (self.config.batch_size, 2), generator=generator)
            frames = shift_windows(frames, offsets[torch.from_numpy(positions)], pad)
        return frames, actions

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        frames, actions = batch
        return ((model(frames) - self.unwrap(model).normalize(actions)) ** 2).mean()

    def evaluate(self, model: IDM, final: bool) -> dict | None:
        if self.val_data is None:
            return None
        if final:
            return evaluate(model, self.val_data)
        metrics = evaluate(model, self.val_data, max_samples=self.config.eval_samples)
        return {"val_loss": metrics["loss"], "val_mae": metrics["mae_mean"], "val_accuracy": metrics["accuracy"]}

    def export(self, model: IDM, folder: Path, step: int) -> None:
        model.save(folder, provenance=make_provenance(data=self.data_info, step=step))

    def resume_key(self) -> dict:
        return self.split

    def run_info(self) -> dict:
        return {"episodes": self.held_out}


def train(config: TrainConfig, progress: bool = True, stop_after: int | None = None) -> TrainResult:
    """Train (or resume training) an IDM as `config` says; see the module docstring for the outputs.

    Args:
        config: The run.
        progress: Show a tqdm progress bar.
        stop_after: Stop (with a checkpoint) after this many steps of this call, as if interrupted.

    Raises:
        UserError: No episodes, or `config.out` holds a run with another config (or a corrupt state).
    """
    result = fit(IDMTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
    return TrainResult(result.out, result.step, result.metrics, result.samples_per_s, result.main_process)
