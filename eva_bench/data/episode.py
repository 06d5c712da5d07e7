"""One demonstration episode in RoboTwin 2.0's HDF5 layout: writing ours, reading ours and RoboTwin's.

Layout (row t of every array belongs to frame t; T rows):
    /joint_action/{left_arm (T, 6), left_gripper (T,), right_arm (T, 6), right_gripper (T,), vector (T, 14)}
    /endpose/{left_endpose (T, 7), left_gripper (T,), right_endpose (T, 7), right_gripper (T,)}
    /observation/<camera>/{rgb (T,) JPEG bytes as fixed-length S<max>, intrinsic_cv (T, 3, 3),
                           extrinsic_cv (T, 3, 4), cam2world_gl (T, 4, 4)}

As in RoboTwin, `joint_action` holds the commanded joint targets in effect when the frame was rendered: row 0
is the initial state (the home command), row t >= 1 the action executed just before frame t. So frame t and
action t line up one to one, and "the next action" of frame t is row t + 1.

Colour order: RoboTwin encodes RGB arrays with OpenCV, which takes them for BGR, so a standard JPEG decoder
returns its images with red and blue swapped; we encode true RGB. Our files carry the attribute
`jpeg_channels = "rgb"`; files without it are treated as RoboTwin's and swapped back on reading.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from eva_bench.fileio import atomic_path
from eva_bench.sim.embodiment import ACTION_DIM, arm_slice, gripper_index

JPEG_QUALITY = 90
_CAMERA_KEYS = ("intrinsic_cv", "extrinsic_cv", "cam2world_gl")


class EpisodeFormatError(ValueError):
    """An HDF5 file is not an episode in the expected layout."""


@dataclass
class CameraFrames:
    """One camera's frames of an episode.

    Args:
        jpeg: JPEG bytes per frame, (T,).
        intrinsic_cv: (T, 3, 3) OpenCV intrinsics.
        extrinsic_cv: (T, 3, 4) world-to-camera (OpenCV).
        cam2world_gl: (T, 4, 4) camera-to-world (OpenGL).
        swap_rb: Whether decoded images need red and blue swapped (RoboTwin's files).
    """

    jpeg: list[bytes]
    intrinsic_cv: np.ndarray
    extrinsic_cv: np.ndarray
    cam2world_gl: np.ndarray
    swap_rb: bool = False

    def __len__(self) -> int:
        return len(self.jpeg)

    def frame(self, t: int) -> np.ndarray:
        """Decoded RGB frame t, (H, W, 3) uint8."""
        image = decode_jpeg(self.jpeg[t])
        return image[..., ::-1].copy() if self.swap_rb else image

    def frames(self) -> np.ndarray:
        """All decoded RGB frames, (T, H, W, 3) uint8."""
        return np.stack([self.frame(t) for t in range(len(self))])


@dataclass
class Episode:
    """A demonstration episode in memory.

    Args:
        vector: (T, 14) commanded joint targets, float32 (see the module docstring for the alignment).
        endpose: {"left_endpose": (T, 7), "right_endpose": (T, 7)} TCP poses (xyz + wxyz quaternion, world).
        cameras: Camera name -> its frames.
        attrs: Scalar metadata (task, seed, instruction, ...).
    """

    vector: np.ndarray
    endpose: dict[str, np.ndarray]
    cameras: dict[str, CameraFrames]
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.vector)


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes of an RGB image (H, W, 3) uint8."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def decode_jpeg(data: bytes) -> np.ndarray:
    """An image (H, W, 3) uint8 from JPEG bytes, in the channel order it was encoded with."""
    from PIL import Image

    with Image.open(io.BytesIO(bytes(data))) as image:
        return np.asarray(image.convert("RGB"))


def write_episode(path: str | os.PathLike, episode: Episode) -> Path:
    """Write `episode` to `path` (to a temporary name first, renamed when complete)."""
    path = Path(path)
    vector = np.asarray(episode.vector, np.float32)
    if vector.ndim != 2 or vector.shape[1] != ACTION_DIM:
        raise ValueError(f"vector must be (T, {ACTION_DIM}), got {vector.shape}")
    steps = len(vector)
    for name, cam in episode.cameras.items():
        if len(cam) != steps:
            raise ValueError(f"camera {name} has {len(cam)} frames for {steps} rows")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        joint = f.create_group("joint_action")
        for arm in ("left", "right"):
            joint[f"{arm}_arm"] = vector[:, arm_slice(arm)]
            joint[f"{arm}_gripper"] = vector[:, gripper_index(arm)]
        joint["vector"] = vector
        endpose = f.create_group("endpose")
        for arm in ("left", "right"):
            endpose[f"{arm}_endpose"] = np.asarray(episode.endpose[f"{arm}_endpose"], np.float32)
            endpose[f"{arm}_gripper"] = vector[:, gripper_index(arm)]
        observation = f.create_group("observation")
        for name, cam in episode.cameras.items():
            group = observation.create_group(name)
            width = max(len(b) for b in cam.jpeg)
            group["rgb"] = np.array(cam.jpeg, dtype=f"S{width}")
            for key in _CAMERA_KEYS:
                group[key] = np.asarray(getattr(cam, key), np.float32)
        f["pointcloud"] = np.zeros((steps, 0), np.float32)  # RoboTwin's layout when point clouds are off
        f.attrs["jpeg_channels"] = "rgb"
        for key, value in episode.attrs.items():
            f.attrs[key] = value
    return path


def read_episode(path: str | os.PathLike, cameras: list[str] | None = None) -> Episode:
    """Read an episode written by `write_episode` or by RoboTwin 2.0's collector.

    Args:
        path: The HDF5 file.
        cameras: Cameras to load (default: all in the file).

    Raises:
        EpisodeFormatError: The file lacks the layout's groups or its arrays disagree in length.
        FileNotFoundError: No such file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no episode file {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as error:
        raise EpisodeFormatError(f"{path} is not a readable HDF5 file: {error}") from error
    with f:
        if "joint_action/vector" not in f or "observation" not in f:
            raise EpisodeFormatError(f"{path} lacks /joint_action/vector or /observation (not a RoboTwin episode)")
        vector = np.asarray(f["joint_action/vector"], np.float32)
        if vector.ndim != 2 or vector.shape[1] != ACTION_DIM:
            raise EpisodeFormatError(f"{path}: /joint_action/vector has shape {vector.shape}, expected (T, 14)")
        endpose = {k: np.asarray(f[f"endpose/{k}"], np.float32) for k in ("left_endpose", "right_endpose")
                   if f"endpose/{k}" in f}
        swap = f.attrs.get("jpeg_channels", "bgr") != "rgb"
        available = list(f["observation"].keys())
        wanted = available if cameras is None else cameras
        missing = sorted(set(wanted) - set(available))
        if missing:
            raise EpisodeFormatError(f"{path} has no camera(s) {missing}; it has {available}")
        frames = {}
        for name in wanted:
            group = f[f"observation/{name}"]
            jpeg = [bytes(b) for b in group["rgb"][()]]
            if len(jpeg) != len(vector):
                raise EpisodeFormatError(f"{path}: camera {name} has {len(jpeg)} frames for {len(vector)} rows")
            params = {k: np.asarray(group[k], np.float32) if k in group else np.zeros((len(jpeg), 0), np.float32)
                      for k in _CAMERA_KEYS}
            frames[name] = CameraFrames(jpeg, swap_rb=swap, **params)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    return Episode(vector, endpose, frames, attrs)
