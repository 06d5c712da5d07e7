"""Export our demonstrations in RoboTwin 2.0's folder layout and colour order, so RoboTwin's own training scripts
(policy/ACT, policy/DP, RDT's and pi0's converters) train on them unchanged.

RoboTwin reads `data/<task>/<task_config>/data/episode{i}.hdf5` (+ `instructions/episode{i}.json`,
`video/episode{i}.mp4`) and decodes frames with OpenCV, which returns the stored JPEG's colours in BGR order;
its collector encoded RGB arrays with OpenCV, so its decoded arrays are RGB again. Our files hold true-colour
JPEGs (attribute `jpeg_channels = "rgb"`): exported, each frame is re-encoded with red and blue swapped (what
OpenCV's encoder makes of an RGB array) and the attribute is dropped. Everything else (joint targets, end
poses, camera matrices, other attributes) is copied as is. Our reader (`EpisodeFile`) reads both layouts, so an
exported folder also trains our models.

`export_reconstructed` writes our layout again with one camera's frames passed through a world model's frame
autoencoder: the demos as that world model renders them, for an IDM that must read imagined frames.
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
from eva_bench.data.episode import JPEG_QUALITY, EpisodeFile, decode_frame, decode_jpeg, encode_jpeg
from eva_bench.fileio import atomic_path

EXPORT_QUALITY = 95  # OpenCV's default JPEG quality, RoboTwin's


def _copy_episode(source: Path, target: Path, frames_of: Callable[[str, list[bytes], bool], list[bytes]],
                  drop_attrs: tuple[str, ...] = ()) -> None:
    """Copy episode file `source` to `target`, each camera's JPEGs replaced by `frames_of(camera, jpegs,
    true_colour)` (true_colour: the file stores RGB JPEGs, ours), without the file attributes `drop_attrs`."""
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
            frames = frames_of(camera, [bytes(b) for b in group["rgb"][()]], ours)
            out["rgb"] = np.array(frames, dtype=f"S{max(len(b) for b in frames)}")
        for key, value in src.attrs.items():
            if key not in drop_attrs:
                dst.attrs[key] = value


def _copy_swapped(source: Path, target: Path, quality: int) -> None:
    """Copy episode file `source` to `target` with every camera's JPEGs re-encoded in RoboTwin's colour order."""

    def swapped(camera: str, frames: list[bytes], ours: bool) -> list[bytes]:
        # true colour -> the swapped colours OpenCV's encoder stores for an RGB array
        return [encode_jpeg(decode_jpeg(b)[..., ::-1], quality) for b in frames] if ours else frames

    _copy_episode(source, target, swapped, drop_attrs=("jpeg_channels",))


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


def export_reconstructed(data: str | os.PathLike, out: str | os.PathLike, autoencoder: str | os.PathLike,
                         camera: str = "head_camera", tasks: Sequence[str] | None = None,
                         quality: int = JPEG_QUALITY, progress: Callable[[int, int], None] | None = None) -> int:
    """Copy the episodes under `data` to the same relative paths under `out`, `camera`'s frames replaced by their
    round trip through a world model's frame `autoencoder`: the demos as that world model renders them, for an
    IDM that has to read imagined frames (`eva-bench train idm --data OUT --init IDM`). Instructions are
    copied along; videos are not (they show the real frames). Files already written are kept (resumable).
    Returns the number of episodes.

    Raises:
        FileNotFoundError: No episode under `data`.
        ValueError: `out` inside `data`, or frames of another size than the autoencoder's.
        CheckpointError: `autoencoder` is not an autoencoder checkpoint.
    """
    import torch

    from eva_bench.checkpoint import read_checkpoint
    from eva_bench.world_model.autoencoder import FrameAutoencoder

    data, out = Path(data).resolve(), Path(out).resolve()
    if out == data or data in out.parents:
        raise ValueError(f"the export folder {out} must not be inside the data folder {data}")
    paths = find_episodes(data, tasks)
    checkpoint = read_checkpoint(autoencoder, FrameAutoencoder.kind)
    model = FrameAutoencoder.load(checkpoint.folder).eval()
    size = (model.config["width"], model.config["height"])

    def round_trip(name: str, frames: list[bytes], ours: bool) -> list[bytes]:
        if name != camera:
            return frames
        video = np.stack([decode_frame(b, swap_rb=not ours) for b in frames])
        if (video.shape[2], video.shape[1]) != size:
            raise ValueError(f"{camera} frames are {video.shape[2]}x{video.shape[1]}, the autoencoder codes "
                             f"{size[0]}x{size[1]}")
        with torch.no_grad():
            coded = model.round_trip(video)
        return [encode_jpeg(frame if ours else frame[..., ::-1], quality) for frame in coded]

    for done, path in enumerate(paths, 1):
        target = out / path.relative_to(data)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            EpisodeFile(path).check_cameras([camera])
            _copy_episode(path, target, round_trip)
            side = path.parent.parent / "instructions" / (path.stem + ".json")
            if side.is_file():
                (target.parent.parent / "instructions").mkdir(exist_ok=True)
                shutil.copyfile(side, target.parent.parent / "instructions" / side.name)
        if progress is not None:
            progress(done, len(paths))
    (out / "reconstructed.json").write_text(json.dumps(
        {"source": str(data), "autoencoder": str(checkpoint.folder), "autoencoder_digest": checkpoint.digest,
         "camera": camera, "episodes": len(paths), "jpeg_quality": quality}, indent=1))
    return len(paths)
