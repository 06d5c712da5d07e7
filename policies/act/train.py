"""Training ACT on expert demonstrations (`eva-bench train act`), on the shared trainer (`eva_bench.training`).

A sample is an (episode, t) of the training episodes: the cameras' frames of row t, the state (row t's joint
vector) and the target chunk, rows t+1 .. t+chunk (the commands that follow the observation), padded with the
last row past the episode's end and masked in the loss. RoboTwin's protocol trains one model per task on 50
demos (`tasks` = one task); `multi_task` trains one task-conditioned model on several. Held out: whole
episodes (`holdout`), scored by the L1 error of the first action of each chunk and of the whole chunk (rad).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from eva_bench.policies.act.config import ACTTrainConfig
from eva_bench.policies.act.model import ACT

from eva_bench.checkpoint import make_provenance
from eva_bench.data.batches import WindowBatches
from eva_bench.data.dataset import FrameWindows, training_split
from eva_bench.errors import UserError
from eva_bench.training import ConfiguredTask, fit


class ChunkSamples:
    """(frames of each camera, state, target chunk, padding mask, task index) of (episode, t) samples."""

    def __init__(self, paths: list[Path], cameras: list[str], size: tuple[int, int], chunk: int,
                 cache_mb: int) -> None:
        self.views = [WindowBatches(FrameWindows(paths, camera, 0, 0, (0,), size), cache_mb) for camera in cameras]
        self.windows = self.views[0].windows
        self.chunk = chunk
        self.tasks: list[str] = []  # a multi-task model's task tokens (set once the tasks are known)

    def __len__(self) -> int:
        return len(self.views[0])

    def batch(self, items) -> dict:
        frames = torch.stack([view.batch(items)[0][:, 0] for view in self.views], dim=1)  # (B, N_cam, 3, H, W)
        states, chunks, pads, tasks = [], [], [], []
        for item in items:
            episode, t = self.views[0].locate(int(item))
            vector = self.windows.actions[episode]
            rows = np.arange(t + 1, t + 1 + self.chunk)
            pads.append(rows >= len(vector))
            chunks.append(vector[np.minimum(rows, len(vector) - 1)])
            states.append(vector[t])
            task = self.windows.tasks[episode]
            tasks.append(self.tasks.index(task) if len(self.tasks) > 1 else 0)
        return {"images": frames, "state": torch.from_numpy(np.stack(states).astype(np.float32)),
                "actions": torch.from_numpy(np.stack(chunks).astype(np.float32)),
                "is_pad": torch.from_numpy(np.stack(pads)), "task": torch.tensor(tasks)}


class ACTTraining(ConfiguredTask):
    """ACT's part of a training run (module docstring)."""

    kind = "act"
    resumable = ("eval_samples", "cache_mb")
    eval_columns = {"val_l1": ".5f", "val_first_mae": ".5f", "val_chunk_mae": ".5f"}

    def setup(self) -> None:
        config = self.config
        train, val = training_split(config.data, config.tasks, config.holdout, config.split_seed)
        shape = config.model_kwargs([])
        size = (shape["width"], shape["height"])
        self.train_data = ChunkSamples(train, shape["cameras"], size, shape["chunk"], config.cache_mb)
        self.val_data = ChunkSamples(val, shape["cameras"], size, shape["chunk"], config.cache_mb) if val else None
        found = sorted(set(self.train_data.windows.tasks) | set(self.val_data.windows.tasks if val else ()))
        if len(found) > 1 and not config.multi_task:
            raise UserError(f"the episodes under {config.data} hold {len(found)} tasks; ACT trains one per model "
                            "(give --tasks T) unless --multi-task")
        self.kwargs = config.model_kwargs(found)
        for data in (self.train_data, self.val_data):
            if data is not None:
                data.tasks = self.kwargs["tasks"]
        self.split = {"train": [str(p) for p in train], "val": [str(p) for p in val]}
        self.data_info = {"folder": config.data, "tasks": found, "train_episodes": len(train),
                          "held_out_episodes": len(val)}

    @property
    def num_samples(self) -> int:
        return len(self.train_data)

    def build_model(self) -> ACT:
        model = ACT(**self.kwargs)
        if self.config.resnet_weights:
            from eva_bench.vision import load_torchvision_weights

            load_torchvision_weights(model.backbone, self.config.resnet_weights)
        return model

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.") and p.requires_grad]
        rest = [p for n, p in model.named_parameters() if not n.startswith("backbone.") and p.requires_grad]
        groups = [{"params": rest}, {"params": backbone, "lr_scale": self.config.backbone_lr_scale}]
        return torch.optim.AdamW(groups, lr=lr, weight_decay=self.config.weight_decay)

    def start(self, model: ACT) -> None:
        actions = self.train_data.windows.all_actions()
        model.set_stats(actions, actions)  # the state is a row of the same joint vectors

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> dict:
        return self.train_data.batch(indices)

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        loss, _ = self.unwrap(model).loss(batch["images"], batch["state"], batch["actions"], batch["is_pad"],
                                          batch["task"], self.config.kl_weight)
        return loss

    @torch.no_grad()
    def evaluate(self, model: ACT, final: bool) -> dict | None:
        if self.val_data is None:
            return None
        count = len(self.val_data)
        wanted = count if final else min(count, self.config.eval_samples)
        items = np.linspace(0, count - 1, wanted).round().astype(np.int64)
        was_training = model.training
        model.eval()
        l1, first, whole = [], [], []
        for start in range(0, len(items), 32):
            batch = self.val_data.batch(items[start:start + 32])
            predicted, _ = model(batch["images"], batch["state"], batch["task"])
            target = (batch["actions"] - model.action_mean) / model.action_std
            keep = ~batch["is_pad"]
            l1.append((predicted - target).abs()[keep].mean(-1))
            joints = predicted * model.action_std + model.action_mean
            error = (joints - batch["actions"]).abs()
            first.append(error[:, 0].mean(-1))
            whole.append(error[keep].mean(-1))
        model.train(was_training)
        return {"val_l1": float(torch.cat(l1).mean()), "val_first_mae": float(torch.cat(first).mean()),
                "val_chunk_mae": float(torch.cat(whole).mean()), "samples": int(len(items))}

    def export(self, model: ACT, folder: Path, step: int) -> None:
        model.save(folder, provenance=make_provenance(data=self.data_info, step=step))

    def resume_key(self) -> dict:
        return self.split


def train_act(config: ACTTrainConfig, progress: bool = True, stop_after: int | None = None):
    """Train (or resume) an ACT as `config` says; returns the trainer's `FitResult`."""
    return fit(ACTTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
