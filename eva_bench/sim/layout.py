"""Seeded placement helpers that follow RoboTwin's `rand_pose` rules (uniform ranges, rejection sampling).

All randomness comes from the episode's `np.random.Generator`; nothing here touches global RNG state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MAX_TRIES = 1000


def sample_xy(
    rng: np.random.Generator,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    min_abs_x: float = 0.0,
    avoid: Sequence[np.ndarray] = (),
    min_dist: float = 0.0,
) -> np.ndarray:
    """A point (2,) uniform in the box, with |x| >= `min_abs_x` and at least `min_dist` from every `avoid`.

    Raises:
        RuntimeError: No point satisfies the constraints (a bug in the task's ranges).
    """
    for _ in range(_MAX_TRIES):
        xy = np.array([rng.uniform(*xlim), rng.uniform(*ylim)])
        if abs(xy[0]) < min_abs_x:
            continue
        if any(np.linalg.norm(xy - np.asarray(a)[:2]) < min_dist for a in avoid):
            continue
        return xy
    raise RuntimeError(f"no placement in x {xlim}, y {ylim} with |x| >= {min_abs_x} and spacing {min_dist}")

