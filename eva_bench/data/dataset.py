"""Episodes on disk as a torch Dataset of frame windows with their actions (for the IDM and the world model).

`find_episodes` lists the HDF5 files under a folder, ours (`OUT/<task>/data/episode{i}.hdf5`) or RoboTwin 2.0's
(`data/<task>/<config>/data/episode{i}.hdf5`). `FrameWindows` indexes every row t of every episode and returns
the frames t - before .. t + after of one camera (clamped at the episode's ends, so every row is a sample) with
the joint targets at rows t + offset for each requested offset:

* IDM: before = after = k, offsets (0,): frames I_{t-k..t+k} -> action a_t;
* world model: before = 0, after = N, offsets 1..N: a first frame and the next N frames with their actions.

Only the compressed JPEG bytes of the requested camera are kept in memory; frames are decoded per sample.
Files are read through `eva_bench.data.episode.EpisodeFile` (layout checks and the RoboTwin colour rule).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eva_bench.data.episode import EpisodeFile


def find_episodes(root: str | os.PathLike, tasks: Sequence[str] | None = None) -> list[Path]:
    """Every `episode*.hdf5` under `root`, ordered by folder then episode number.

    Args:
        root: A collection folder (ours or RoboTwin's), or a single HDF5 file.
        tasks: Keep only files whose path contains one of these task names as a folder.

    Raises:
        FileNotFoundError: `root` does not exist or holds no episode.
    """
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder {root}")

    def key(path: Path) -> tuple:
        number = re.search(r"(\d+)", path.stem)
        return (str(path.parent), int(number.group(1)) if number else -1)

    paths = sorted(root.rglob("episode*.hdf5"), key=key)
    paths = [p for p in paths if not p.name.startswith(".")]
    if tasks is not None:
        wanted = set(tasks)
        paths = [p for p in paths if wanted & set(p.relative_to(root).parts)]
    if not paths:
        raise FileNotFoundError(f"no episode*.hdf5 under {root}" + (f" for tasks {list(tasks)}" if tasks else ""))
    return paths


def split_by_episode(paths: Sequence[Path], holdout: float, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """Split episode files into (train, held-out) by episode, reproducibly; at least one of each when possible."""
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    order = np.random.default_rng(seed).permutation(len(paths))
    count = int(round(holdout * len(paths)))
    if holdout > 0 and len(paths) > 1:
        count = min(max(count, 1), len(paths) - 1)
    held = sorted(int(i) for i in order[:count])
    return [p for i, p in enumerate(paths) if i not in held], [paths[i] for i in held]


def training_split(data: str | os.PathLike, tasks: Sequence[str] | None, holdout: float,
                   seed: int = 0) -> tuple[list[Path], list[Path]]:
    """The (train, held-out) episode files of a training run's --data and --tasks (`find_episodes`, then
    `split_by_episode`), shared by every trainer so all models hold out the same episodes.

    Raises:
        UserError: No such folder or task, or no training episode left.
    """
    from eva_bench.errors import UserError

    try:
        paths = find_episodes(data, tasks)
    except FileNotFoundError as error:
        raise UserError(f"--data: {error}") from None
    train, held_out = split_by_episode(paths, holdout, seed)
    if not train:
        raise UserError(f"no training episode under {data} (holdout {holdout})")
    return train, held_out


def task_of(path: Path) -> str:
    """The task name of an episode file without a "task" attribute (RoboTwin's): the folder above `data/`
    (ours: <task>/data; RoboTwin: <task>/<config>/data), else the file's parent folder."""
    if path.parent.name == "data":
        folder = path.parent.parent
        return folder.parent.name if _is_config(folder.name) else folder.name
    return path.parent.name


def _is_config(name: str) -> bool:
    """RoboTwin's task-config folder names (demo_clean, demo_randomized, aloha-agilex_clean_50, ...)."""
    return "clean" in name or "randomized" in name or name.startswith("demo")


class FrameWindows:
    """A map-style torch Dataset of (frame window, actions) samples over episode files.

    Args:
        paths: Episode HDF5 files.
        camera: Camera whose frames are returned.
        before: Frames before t in the window.
        after: Frames after t in the window.
        action_offsets: Rows (relative to t) whose joint targets are returned.
        size: (width, height) to resize frames to; None keeps the recorded size.

    A sample is a dict: "frames" uint8 tensor (before + 1 + after, 3, H, W), "actions" float32 tensor
    (len(action_offsets), 14), "episode" (index into `paths`), "t", "task" (str).
    """

    def __init__(
        self,
        paths: Sequence[Path],
        camera: str = "head_camera",
        before: int = 2,
        after: int = 2,
        action_offsets: Sequence[int] = (0,),
        size: tuple[int, int] | None = None,
    ) -> None:
        if before < 0 or after < 0:
            raise ValueError("before and after must be >= 0")
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValueError("no episode files given")
        self.camera, self.before, self.after = camera, before, after
        self.offsets = tuple(int(o) for o in action_offsets)
        self.size = size
        self.episodes: list[EpisodeFile] = []
        self.actions: list[np.ndarray] = []
        self.tasks: list[str] = []
        index = []
        for number, path in enumerate(self.paths):
            episode = EpisodeFile(path)  # reads the header only
            episode.check_cameras([camera])
            self.episodes.append(episode)
            self.actions.append(episode.vector)
            self.tasks.append(episode.task or task_of(path))
            index.extend((number, t) for t in range(len(episode)))
        self._index = np.asarray(index, np.int64)

    def __len__(self) -> int:
        return len(self._index)

    def frames(self, episode: int, rows: Sequence[int]) -> np.ndarray:
        """Decoded frames (len(rows), H, W, 3) uint8 of one episode (rows clamped to the episode)."""
        last = len(self.episodes[episode]) - 1
        images = self.episodes[episode].frames(self.camera, [min(max(int(row), 0), last) for row in rows])
        if self.size is not None and (images.shape[2], images.shape[1]) != tuple(self.size):
            images = np.stack([_resize(image, self.size) for image in images])
        return images

    def frame_size(self, episode: int = 0) -> tuple[int, int]:
        """(width, height) at which `episode`'s frames of the camera were recorded (before any resizing)."""
        return self.episodes[episode].frame_size(self.camera)

    def __getitem__(self, item: int) -> dict:
        import torch

        episode, t = (int(v) for v in self._index[item])
        frames = self.frames(episode, range(t - self.before, t + self.after + 1))
        vector = self.actions[episode]
        rows = [min(max(t + o, 0), len(vector) - 1) for o in self.offsets]
        return {
            "frames": torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2))),
            "actions": torch.from_numpy(vector[rows]),
            "episode": episode,
            "t": t,
            "task": self.tasks[episode],
        }

    def all_actions(self) -> np.ndarray:
        """Every row's joint targets stacked, (N, 14) float32 (for normalization statistics)."""
        return np.concatenate(self.actions)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize(tuple(size), Image.BILINEAR))
