"""What training ACT and DP on expert demos shares: (observation history, action chunk) samples of the demos and
the training task around them (split, task handling, normalization statistics, export, resume key).

A sample is an (episode, t) of the training episodes. Its observation is rows t - history + 1 .. t (frames of each
camera and joint states; rows before the episode's start repeat row 0). Its chunk starts at the state row
t + `chunk_start` and holds, for each of `chunk` state rows r, the command that follows it, row r + 1 (RoboTwin's
"state = row t, action = row t + 1"); rows past the episode's ends repeat the first or last command and are
flagged in `is_pad` (ACT masks them out of its loss; DP, as RoboTwin's, learns the repeated edge).
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import numpy as np
import torch

from eva_bench.checkpoint import make_provenance
from eva_bench.data.batches import WindowBatches
from eva_bench.data.dataset import FrameWindows, training_split
from eva_bench.errors import UserError
from eva_bench.training import ConfiguredTask


class ChunkSamples:
    """(frames, states, target chunk, padding mask, task index) of (episode, t) samples (module docstring).

    Args:
        paths: Episode files.
        cameras: Cameras whose frames are returned.
        size: (width, height) of the returned frames.
        history: Observation rows per sample (1 for ACT, n_obs for DP).
        chunk_start: First state row of the chunk relative to t (0 for ACT, -(n_obs - 1) for DP).
        chunk: Rows of the chunk.
        cache_mb: Budget of the decoded-frame cache per camera (MiB).
    """

    def __init__(self, paths: list[Path], cameras: list[str], size: tuple[int, int], history: int, chunk_start: int,
                 chunk: int, cache_mb: int) -> None:
        self.views = [WindowBatches(FrameWindows(paths, camera, history - 1, 0, (0,), size), cache_mb)
                      for camera in cameras]
        self.windows = self.views[0].windows
        self.history, self.chunk_start, self.chunk = history, chunk_start, chunk
        self.tasks: list[str] = []  # a multi-task model's task names (set once the tasks are known)

    def __len__(self) -> int:
        return len(self.views[0])

    def batch(self, items) -> dict:
        """"frames" (B, N_cam, history, 3, H, W) uint8, "states" (B, history, 14), "actions" (B, chunk, 14),
        "is_pad" (B, chunk), "task" (B,) indices into `tasks`."""
        frames = torch.stack([view.batch(items)[0] for view in self.views], dim=1)
        states, chunks, pads, tasks = [], [], [], []
        for item in items:
            episode, t = self.views[0].locate(int(item))
            vector = self.windows.actions[episode]
            last = len(vector) - 1
            observed = np.clip(np.arange(t - self.history + 1, t + 1), 0, last)
            rows = np.arange(t + self.chunk_start, t + self.chunk_start + self.chunk)
            pads.append((rows < 0) | (rows >= last))
            chunks.append(vector[np.minimum(np.maximum(rows, 0) + 1, last)])
            states.append(vector[observed])
            task = self.windows.tasks[episode]
            tasks.append(self.tasks.index(task) if len(self.tasks) > 1 else 0)
        return {"frames": frames, "states": torch.from_numpy(np.stack(states).astype(np.float32)),
                "actions": torch.from_numpy(np.stack(chunks).astype(np.float32)),
                "is_pad": torch.from_numpy(np.stack(pads)), "task": torch.tensor(tasks)}


class ChunkPolicyTraining(ConfiguredTask):
    """The training task of a chunk policy; a subclass gives the sample layout and the model's parts.

    Class attribute `label` names the model in messages.
    """

    label = "model"
    resumable = ("eval_samples", "cache_mb")

    @abstractmethod
    def sample_layout(self, kwargs: dict) -> dict:
        """ChunkSamples' keyword arguments (cameras, size, history, chunk_start, chunk) for the model's
        constructor arguments `kwargs`."""

    def setup(self) -> None:
        config = self.config
        train, val = training_split(config.data, config.tasks, config.holdout, config.split_seed)
        layout = self.sample_layout(config.model_kwargs([]))
        self.train_data = ChunkSamples(train, **layout, cache_mb=config.cache_mb)
        self.val_data = ChunkSamples(val, **layout, cache_mb=config.cache_mb) if val else None
        found = sorted(set(self.train_data.windows.tasks) | set(self.val_data.windows.tasks if val else ()))
        if len(found) > 1 and not config.multi_task:
            raise UserError(f"the episodes under {config.data} hold {len(found)} tasks; {self.label} trains one per "
                            "model (give --tasks T) unless --multi-task")
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

    def start(self, model: torch.nn.Module) -> None:
        actions = self.train_data.windows.all_actions()
        model.set_stats(actions, actions)  # a state is a row of the same joint vectors

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> dict:
        return self.train_data.batch(indices)

    def val_batches(self, final: bool, size: int = 32):
        """Batches of evenly spread held-out samples (all of them when `final`); (the batches, the count)."""
        count = len(self.val_data)
        wanted = count if final else min(count, self.config.eval_samples)
        items = np.linspace(0, count - 1, wanted).round().astype(np.int64)
        return (self.val_data.batch(items[i:i + size]) for i in range(0, len(items), size)), len(items)

    def export(self, model: torch.nn.Module, folder: Path, step: int) -> None:
        model.save(folder, provenance=make_provenance(data=self.data_info, step=step))

    def resume_key(self) -> dict:
        return self.split
