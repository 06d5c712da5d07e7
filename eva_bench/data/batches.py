"""`WindowBatches`: training batches of frame windows over episode files, decoded frames cached in memory."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from eva_bench.data.dataset import FrameWindows


class WindowBatches:
    """Batches of frame windows from `FrameWindows`, with decoded frames cached per episode.

    Args:
        windows: The dataset (its `before` and `after` frames around t, `size` the model's input size).
        cache_mb: Memory budget of the decoded-frame cache in MiB.

    `batch(items)` returns frames (B, before + 1 + after, 3, H, W) uint8 and the actions of t (B, 14) float32
    tensors; rows beyond an episode's ends repeat its first or last frame. The IDM uses windows t-k .. t+k,
    the video autoencoder groups t .. t+3.
    """

    def __init__(self, windows: FrameWindows, cache_mb: int = 2048) -> None:
        self.windows = windows
        self.lengths = np.array([len(a) for a in windows.actions])
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.budget = cache_mb * 2**20
        self._cache: dict[int, np.ndarray] = {}
        self._uncached: set[int] = set()
        self._used = 0

    def __len__(self) -> int:
        return int(self.lengths.sum())

    def locate(self, item: int) -> tuple[int, int]:
        """(episode, row) of sample `item` (episode-major order, as `FrameWindows`)."""
        episode = int(np.searchsorted(self.starts, item, side="right") - 1)
        return episode, int(item - self.starts[episode])

    def _episode_frames(self, episode: int) -> np.ndarray | None:
        """All frames (T, 3, H, W) of `episode` from the cache (decoded on first use); None if over budget."""
        if episode in self._uncached:
            return None
        frames = self._cache.get(episode)
        if frames is None:
            frames = self.windows.frames(episode, range(self.lengths[episode])).transpose(0, 3, 1, 2)
            if self._used + frames.nbytes > self.budget:
                self._uncached.add(episode)
                return None
            self._cache[episode] = frames = np.ascontiguousarray(frames)
            self._used += frames.nbytes
        return frames

    def batch(self, items: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        before, after = self.windows.before, self.windows.after
        frames, actions = [], []
        for item in items:
            episode, t = self.locate(int(item))
            rows = np.clip(np.arange(t - before, t + after + 1), 0, self.lengths[episode] - 1)
            cached = self._episode_frames(episode)
            window = cached[rows] if cached is not None else self.windows.frames(episode, rows).transpose(0, 3, 1, 2)
            frames.append(window)
            actions.append(self.windows.actions[episode][t])
        return torch.from_numpy(np.stack(frames)), torch.from_numpy(np.stack(actions).astype(np.float32))
