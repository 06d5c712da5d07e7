"""A small, seeded RRT-Connect in joint space with shortcut smoothing.

mplib's RRT goes through OMPL, whose random generators are seeded from a process-wide sequence: the same
query gives different paths depending on what the process planned before, which would make expert plans (and
so the evaluation seeds the expert check accepts) depend on worker history. This planner draws from a
generator seeded per query, so a query's answer depends on the query only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Validity = Callable[[np.ndarray], bool]


def segment_free(a: np.ndarray, b: np.ndarray, is_free: Validity, resolution: float) -> bool:
    """Whether every configuration on the straight joint-space segment a->b (end included) is free."""
    n = max(1, int(np.ceil(np.max(np.abs(b - a)) / resolution)))
    return all(is_free(a + (b - a) * t) for t in np.linspace(0.0, 1.0, n + 1)[1:])


class _Tree:
    def __init__(self, root: np.ndarray) -> None:
        self.nodes = [root]
        self.parents = [-1]

    def nearest(self, q: np.ndarray) -> int:
        return int(np.argmin(np.linalg.norm(np.asarray(self.nodes) - q, axis=1)))

    def add(self, q: np.ndarray, parent: int) -> int:
        self.nodes.append(q)
        self.parents.append(parent)
        return len(self.nodes) - 1

    def path_to_root(self, index: int) -> list[np.ndarray]:
        path = []
        while index != -1:
            path.append(self.nodes[index])
            index = self.parents[index]
        return path


def rrt_connect(
    start: np.ndarray,
    goal: np.ndarray,
    is_free: Validity,
    lower: np.ndarray,
    upper: np.ndarray,
    rng: np.random.Generator,
    step: float = 0.15,
    resolution: float = 0.03,
    max_samples: int = 3000,
) -> list[np.ndarray] | None:
    """A collision-free joint path from `start` to `goal` (both included), or None if none was found.

    Args:
        start, goal: Configurations (D,), both free.
        is_free: Whether a configuration is collision-free.
        lower, upper: Joint limits (D,), where samples are drawn.
        rng: The query's generator.
        step: Largest joint-space step (rad, max-norm) of one tree extension.
        resolution: Collision-check spacing along edges (rad).
        max_samples: Random samples before giving up.
    """
    from_start, from_goal = _Tree(np.asarray(start, float)), _Tree(np.asarray(goal, float))
    grow, other = from_start, from_goal
    for _ in range(max_samples):
        new = _extend(grow, rng.uniform(lower, upper), is_free, step, resolution)
        if new is not None:
            reached = _connect(other, grow.nodes[new], is_free, step, resolution)
            if reached is not None:
                ends = {id(grow): new, id(other): reached}
                path = from_start.path_to_root(ends[id(from_start)])[::-1] + from_goal.path_to_root(
                    ends[id(from_goal)]
                )
                return shortcut(path, is_free, rng, resolution)
        grow, other = other, grow
    return None


def _extend(tree: _Tree, target: np.ndarray, is_free: Validity, step: float, resolution: float) -> int | None:
    near = tree.nearest(target)
    origin = tree.nodes[near]
    delta = target - origin
    span = np.max(np.abs(delta))
    new = target if span <= step else origin + delta * (step / span)
    if not segment_free(origin, new, is_free, resolution):
        return None
    return tree.add(new, near)


def _connect(tree: _Tree, target: np.ndarray, is_free: Validity, step: float, resolution: float) -> int | None:
    while True:
        index = _extend(tree, target, is_free, step, resolution)
        if index is None:
            return None
        if np.allclose(tree.nodes[index], target):
            return index


def shortcut(path: list[np.ndarray], is_free: Validity, rng: np.random.Generator, resolution: float,
             attempts: int = 60) -> list[np.ndarray]:
    """Remove detours: replace random sub-paths by straight segments where those are free."""
    path = list(path)
    for _ in range(attempts):
        if len(path) <= 2:
            break
        i, j = sorted(rng.choice(len(path), size=2, replace=False))
        if j - i > 1 and segment_free(path[i], path[j], is_free, resolution):
            path = path[: i + 1] + path[j:]
    return path
