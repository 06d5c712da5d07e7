"""Writing and reading episode videos (mp4, H.264 through the ffmpeg binary shipped with imageio-ffmpeg)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from eva_bench.fileio import atomic_path


def write_mp4(path: str | os.PathLike, frames: list[np.ndarray] | np.ndarray, fps: float) -> Path:
    """Encode RGB frames (T, H, W, 3) uint8 to `path`; written to a temporary name and renamed when complete."""
    import imageio_ffmpeg

    path = Path(path)
    frames = [np.ascontiguousarray(f, dtype=np.uint8) for f in frames]
    if not frames:
        raise ValueError("no frames to write")
    height, width = frames[0].shape[:2]
    if any(f.shape != (height, width, 3) for f in frames):
        raise ValueError(f"frames must all be (H, W, 3) like the first, {frames[0].shape}")
    if height % 2 or width % 2:
        raise ValueError(f"H.264 needs even frame sizes, got {width}x{height}")
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (width, height), fps=fps, codec="libx264", pix_fmt_in="rgb24", quality=8, macro_block_size=1,
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for frame in frames:
            writer.send(frame)
        writer.close()
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise OSError(f"ffmpeg wrote no video for {path}")
    return path


def read_mp4(path: str | os.PathLike) -> np.ndarray:
    """Decode an mp4 into (T, H, W, 3) uint8 frames."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = reader.__next__()
    width, height = meta["size"]
    frames = [np.frombuffer(buf, np.uint8).reshape(height, width, 3) for buf in reader]
    return np.stack(frames) if frames else np.zeros((0, height, width, 3), np.uint8)
