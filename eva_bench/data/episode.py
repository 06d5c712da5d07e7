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

Reading: `EpisodeFile(path)` is the one reader of both layouts. It opens the file once to read the header (joint
targets, attributes, colour order, frame count per camera) and checks the layout; frames are read and decoded on
demand (`frames`, `frame_size`, `camera`). `read_episode` loads a whole `Episode` through it, and
`eva_bench.data.dataset.FrameWindows` decodes training samples through it.
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
        return decode_frame(self.jpeg[t], self.swap_rb)

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


def decode_frame(data: bytes, swap_rb: bool) -> np.ndarray:
    """An RGB frame (H, W, 3) uint8 from a stored JPEG; `swap_rb` for RoboTwin's files (see `EpisodeFile.swap_rb`)."""
    image = decode_jpeg(data)
    return np.ascontiguousarray(image[..., ::-1]) if swap_rb else image


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG image, read from its header without decoding the pixels."""
    from PIL import Image

    with Image.open(io.BytesIO(bytes(data))) as image:
        return image.size


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
    return EpisodeFile(path).read(cameras)


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise EpisodeFormatError(f"{path} is not a readable HDF5 file: {error}") from error


class EpisodeFile:
    """One episode file (ours or RoboTwin's), read lazily: the header now, frames when asked for.

    Opening reads and checks the header in one pass over the file's metadata; no image is read. The file is
    closed again at once (a handle holds no open HDF5 file, so it can be pickled into data-loader workers).
    The JPEG bytes of a camera are read on its first use (one read of that camera's dataset) and kept.

    Attributes:
        path: The file.
        vector: (T, 14) float32 commanded joint targets (row t belongs to frame t).
        attrs: The file's scalar attributes (bytes decoded to str).
        swap_rb: Whether the stored JPEGs decode with red and blue swapped: true for files without
            `jpeg_channels = "rgb"` (RoboTwin's); `frames` and `camera` undo it.
        frame_counts: Camera name -> number of stored frames, for every camera with an `rgb` dataset.

    Raises:
        FileNotFoundError: No such file.
        EpisodeFormatError: Not an HDF5 file, or it lacks /joint_action/vector (T, 14) or /observation.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no episode file {self.path}")
        with _open(self.path) as f:
            if "joint_action/vector" not in f or "observation" not in f:
                raise EpisodeFormatError(
                    f"{self.path} lacks /joint_action/vector or /observation (not a RoboTwin episode)")
            vector = np.asarray(f["joint_action/vector"], np.float32)
            if vector.ndim != 2 or vector.shape[1] != ACTION_DIM:
                raise EpisodeFormatError(
                    f"{self.path}: /joint_action/vector has shape {vector.shape}, expected (T, {ACTION_DIM})")
            self.vector = vector
            self.attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            observation = f["observation"]
            self.frame_counts = {name: len(observation[name]["rgb"]) for name in observation
                                 if isinstance(observation[name], h5py.Group) and "rgb" in observation[name]}
        self.swap_rb = self.attrs.get("jpeg_channels", "bgr") != "rgb"
        self._jpeg: dict[str, list[bytes]] = {}

    def __len__(self) -> int:
        return len(self.vector)

    @property
    def task(self) -> str:
        """The file's "task" attribute ("" in RoboTwin's files, which have none; see `dataset.task_of`)."""
        return str(self.attrs.get("task", ""))

    @property
    def cameras(self) -> list[str]:
        """The cameras with frames in the file."""
        return list(self.frame_counts)

    def check_cameras(self, cameras) -> None:
        """Raise unless every camera in `cameras` has one frame per row of `vector`.

        Raises:
            EpisodeFormatError: A camera is missing or has a different number of frames.
        """
        missing = sorted(set(cameras) - set(self.frame_counts))
        if missing:
            raise EpisodeFormatError(f"{self.path} has no camera(s) {missing}; it has {self.cameras}")
        for name in cameras:
            if self.frame_counts[name] != len(self.vector):
                raise EpisodeFormatError(
                    f"{self.path}: camera {name} has {self.frame_counts[name]} frames for {len(self.vector)} rows")

    def jpeg(self, camera: str) -> list[bytes]:
        """The stored JPEG bytes of `camera`'s frames (read on first use, then kept)."""
        data = self._jpeg.get(camera)
        if data is None:
            self.check_cameras([camera])
            with _open(self.path) as f:
                data = self._jpeg[camera] = [bytes(b) for b in f[f"observation/{camera}/rgb"][()]]
        return data

    def frames(self, camera: str, rows) -> np.ndarray:
        """Decoded RGB frames (len(rows), H, W, 3) uint8 of `camera` at `rows` (each in 0 .. T - 1)."""
        jpeg = self.jpeg(camera)
        return np.stack([decode_frame(jpeg[int(row)], self.swap_rb) for row in rows])

    def frame_size(self, camera: str) -> tuple[int, int]:
        """(width, height) of `camera`'s frames, from the first frame's JPEG header (nothing is decoded)."""
        data = self._jpeg.get(camera)
        if data is not None:
            first = data[0] if data else None
        else:
            self.check_cameras([camera])
            with _open(self.path) as f:
                rgb = f[f"observation/{camera}/rgb"]
                first = bytes(rgb[0]) if len(rgb) else None
        if first is None:
            raise EpisodeFormatError(f"{self.path}: camera {camera} has no frames")
        return jpeg_size(first)

    def camera(self, name: str) -> CameraFrames:
        """All of camera `name`'s frames (still JPEG-compressed) with its per-frame parameters."""
        self.check_cameras([name])
        with _open(self.path) as f:
            return self._camera_frames(f, name)

    def read(self, cameras: list[str] | None = None) -> Episode:
        """The whole episode in memory with `cameras` (default: all in the file)."""
        wanted = self.cameras if cameras is None else list(cameras)
        self.check_cameras(wanted)
        with _open(self.path) as f:
            frames = {name: self._camera_frames(f, name) for name in wanted}
            endpose = {k: np.asarray(f[f"endpose/{k}"], np.float32) for k in ("left_endpose", "right_endpose")
                       if f"endpose/{k}" in f}
        return Episode(self.vector, endpose, frames, dict(self.attrs))

    def _camera_frames(self, f: h5py.File, name: str) -> CameraFrames:
        group = f[f"observation/{name}"]
        jpeg = self._jpeg.get(name)
        if jpeg is None:
            jpeg = self._jpeg[name] = [bytes(b) for b in group["rgb"][()]]
        params = {k: np.asarray(group[k], np.float32) if k in group else np.zeros((len(jpeg), 0), np.float32)
                  for k in _CAMERA_KEYS}
        return CameraFrames(jpeg, swap_rb=self.swap_rb, **params)
