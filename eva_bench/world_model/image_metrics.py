"""Image agreement of two videos: PSNR and SSIM over uint8 frames (numpy only, no image library)."""

from __future__ import annotations

import numpy as np

_SSIM_C1 = (0.01 * 255.0) ** 2  # the standard SSIM constants for an 8-bit range
_SSIM_C2 = (0.03 * 255.0) ** 2


def psnr(predicted: np.ndarray, target: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 arrays of one shape (the mean squared error over all)."""
    mse = float(np.mean((np.asarray(predicted, np.float64) - np.asarray(target, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def masked_psnr(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """PSNR in dB over the pixels where `mask` (the arrays' shape without the channel axis) is true; NaN when
    it selects none."""
    mask = np.asarray(mask, bool)
    if mask.shape != np.shape(target)[:-1]:
        raise ValueError(f"mask must be {np.shape(target)[:-1]}, got {mask.shape}")
    if not mask.any():
        return float("nan")
    return psnr(np.asarray(predicted)[mask], np.asarray(target)[mask])


def _box_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over every size x size window of the last two axes (valid windows only), by summed-area tables."""
    s = np.pad(x.cumsum(-1).cumsum(-2), [(0, 0)] * (x.ndim - 2) + [(1, 0), (1, 0)])
    total = s[..., size:, size:] - s[..., :-size, size:] - s[..., size:, :-size] + s[..., :-size, :-size]
    return total / (size * size)


def ssim(predicted: np.ndarray, target: np.ndarray, window: int = 7) -> float:
    """Mean structural similarity of two uint8 videos (T, H, W, 3) or images (H, W, 3), on the luma channel
    with a uniform `window` x `window` window (1: identical; about 0 for unrelated images)."""
    a, b = (np.asarray(v, np.float64) for v in (predicted, target))
    if a.shape != b.shape or a.shape[-1] != 3 or min(a.shape[-3:-1]) < window:
        raise ValueError(f"ssim needs two (..., H, W, 3) arrays of one shape with H, W >= {window}, "
                         f"got {a.shape} and {b.shape}")
    luma = np.array([0.299, 0.587, 0.114])
    a, b = a @ luma, b @ luma
    mu_a, mu_b = _box_mean(a, window), _box_mean(b, window)
    var_a = _box_mean(a * a, window) - mu_a**2
    var_b = _box_mean(b * b, window) - mu_b**2
    cov = _box_mean(a * b, window) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + _SSIM_C1) * (2 * cov + _SSIM_C2)) / (
        (mu_a**2 + mu_b**2 + _SSIM_C1) * (var_a + var_b + _SSIM_C2))
    return float(index.mean())
