"""Export our demonstrations in RoboTwin 2.0's folder layout and colour order, so RoboTwin's own training scripts
(policy/ACT, policy/DP, RDT's and pi0's converters) train on them unchanged.

RoboTwin reads `data/<task>/<task_config>/data/episode{i}.hdf5` (+ `instructions/episode{i}.json`,
`video/episode{i}.mp4`) and decodes frames with OpenCV, which returns the stored JPEG's colours in BGR order;
its collector encoded RGB arrays with OpenCV, so its decoded arrays are RGB again. Our files hold true-colour
JPEGs (attribute `jpeg_channels = "rgb"`): exported, each frame is re-encoded with red and blue swapped (what
OpenCV's encoder makes of an RGB array) and the attribute is dropped. Everything else (joint targets, end
poses, camera matrices, other attributes) is copied as is. Our reader (`EpisodeFile`) reads both layouts, so an
exported folder also trains our models.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import h5py
import numpy as np

from eva_bench.data.dataset import find_episodes, task_of
from eva_bench.data.episode import EpisodeFile, decode_jpeg, encode_jpeg
from eva_bench.fileio import atomic_path

EXPORT_QUALITY = 95  # OpenCV's default JPEG quality, RoboTwin's


def _copy_swapped(source: Path, target: Path, quality: int) -> None:
    """Copy episode file `source` to `target` with every camera's JPEGs re-encoded in RoboTwin's colour order."""
    with h5py.File(source, "r") as src, atomic_path(target) as tmp, h5py.File(tmp, "w") as dst:
        ours = src.attrs.get("jpeg_channels", b"bgr") in ("rgb", b"rgb")
        for key in src:
            if key != "observation":
                src.copy(src[key], dst, name=key)
        observation = dst.create_group("observation")
        for camera in src["observation"]:
            group = src["observation"][camera]
            out = observation.create_group(camera)
            for key in group:
                if key != "rgb":
                    group.copy(group[key], out, name=key)
            frames = [bytes(b) for b in group["rgb"][()]]
            if ours:  # true colour -> the swapped colours OpenCV's encoder stores for an RGB array
                frames = [encode_jpeg(decode_jpeg(b)[..., ::-1], quality) for b in frames]
            out["rgb"] = np.array(frames, dtype=f"S{max(len(b) for b in frames)}")
        for key, value in src.attrs.items():
            if key != "jpeg_channels":
                dst.attrs[key] = value


def export_robotwin(data: str | os.PathLike, out: str | os.PathLike, tasks: Sequence[str] | None = None,
                    task_config: str = "demo_clean", quality: int = EXPORT_QUALITY,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Write the episodes under `data` (of `tasks`, default all) to `out/<task>/<task_config>/`.

    Episodes are numbered per task in the order of their file names' numbers; instructions
    (`<task>/instructions/episode{i}.json`) and videos (`<task>/video/episode{i}.mp4`) beside our files are
    copied along. Returns task -> episodes written. An existing output file is overwritten.

    Raises:
        FileNotFoundError: No episode under `data` (for `tasks`).
        ValueError: `out` is inside `data` (the export would be read back as input).
    """
    data, out = Path(data).resolve(), Path(out).resolve()
    if out == data or data in out.parents:
        raise ValueError(f"the export folder {out} must not be inside the data folder {data}")
    paths = find_episodes(data, tasks)
    by_task: dict[str, list[Path]] = {}
    for path in paths:
        by_task.setdefault(EpisodeFile(path).task or task_of(path), []).append(path)
    done, written = 0, {}
    for task, files in sorted(by_task.items()):
        root = out / task / task_config
        (root / "data").mkdir(parents=True, exist_ok=True)
        for index, path in enumerate(sorted(files, key=_episode_number)):
            _copy_swapped(path, root / "data" / f"episode{index}.hdf5", quality)
            for kind, suffix in (("instructions", ".json"), ("video", ".mp4")):
                side = path.parent.parent / kind / (path.stem + suffix)
                if side.is_file():
                    (root / kind).mkdir(exist_ok=True)
                    shutil.copyfile(side, root / kind / f"episode{index}{suffix}")
            done += 1
            if progress is not None:
                progress(done, len(paths))
        written[task] = len(files)
        (root / "export.json").write_text(json.dumps(
            {"source": str(data / task), "episodes": len(files), "colour": "robotwin (OpenCV BGR-encoded RGB)",
             "jpeg_quality": quality}, indent=1))
    return written


def _episode_number(path: Path) -> tuple[int, str]:
    digits = "".join(c for c in path.stem if c.isdigit())
    return (int(digits) if digits else -1, path.name)
