"""write_mp4 / read_mp4: lossy round trip of a smooth clip, frame order, atomic writes, empty input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eva_bench.video import read_mp4, write_mp4


def gradient_clip(frames: int, height: int, width: int) -> np.ndarray:
    """A smooth RGB gradient whose brightness and phase change from frame to frame, (T, H, W, 3) uint8."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    clip = []
    for t in range(frames):
        r = 40 + 150 * x / max(width - 1, 1) + 4 * t
        g = 40 + 150 * y / max(height - 1, 1)
        b = 60 + 12 * t + 20 * np.sin((x + y) / (width + height) * np.pi)
        clip.append(np.stack([r, g, b], axis=-1))
    return np.clip(np.stack(clip), 0, 255).astype(np.uint8)


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_round_trip_64x48(tmp_path: Path) -> None:
    clip = gradient_clip(10, 48, 64)
    target = tmp_path / "clip.mp4"
    returned = write_mp4(target, list(clip), fps=15)
    assert Path(returned) == target
    assert target.stat().st_size > 0
    decoded = read_mp4(target)
    assert decoded.dtype == np.uint8
    assert decoded.shape == clip.shape
    assert mean_abs_error(decoded, clip) < 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no temporary file left behind


def test_frames_keep_their_order(tmp_path: Path) -> None:
    clip = gradient_clip(10, 48, 64)
    decoded = read_mp4(write_mp4(tmp_path / "clip.mp4", clip, fps=10))
    errors = np.array([[mean_abs_error(d, c) for c in clip] for d in decoded])
    assert list(errors.argmin(axis=1)) == list(range(len(clip)))


def test_accepts_array_and_even_non_macroblock_size(tmp_path: Path) -> None:
    clip = gradient_clip(6, 30, 50)  # even, but not a multiple of 16: must not be resized
    decoded = read_mp4(write_mp4(tmp_path / "small.mp4", clip, fps=30))
    assert decoded.shape == clip.shape
    assert mean_abs_error(decoded, clip) < 8


def test_creates_parent_folders_and_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "clip.mp4"
    first = gradient_clip(4, 48, 64)
    write_mp4(target, first, fps=10)
    second = 255 - gradient_clip(7, 48, 64)
    write_mp4(target, second, fps=10)
    decoded = read_mp4(target)
    assert decoded.shape == second.shape
    assert mean_abs_error(decoded, second) < 8
    assert sorted(p.name for p in target.parent.iterdir()) == ["clip.mp4"]


@pytest.mark.parametrize("frames", [[], np.zeros((0, 48, 64, 3), np.uint8)], ids=["list", "array"])
def test_empty_frames_raise(tmp_path: Path, frames) -> None:
    target = tmp_path / "empty.mp4"
    with pytest.raises(ValueError, match="no frames"):
        write_mp4(target, frames, fps=10)
    assert list(tmp_path.iterdir()) == []


def test_odd_or_mixed_frame_sizes_are_refused(tmp_path) -> None:
    target = tmp_path / "sub" / "v.mp4"
    with pytest.raises(ValueError, match="even"):
        write_mp4(target, [np.zeros((31, 51, 3), np.uint8)] * 3, fps=10)
    with pytest.raises(ValueError, match="like the first"):
        write_mp4(target, [np.zeros((32, 32, 3), np.uint8), np.zeros((32, 30, 3), np.uint8)], fps=10)
    assert not (tmp_path / "sub").exists()
