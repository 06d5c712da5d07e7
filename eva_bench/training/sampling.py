"""Which training samples each optimizer step uses, and which of them each process and micro-batch takes.

The order depends only on (seed, step): step s takes the global batch `batch_indices(s, ...)` (consecutive
slices of per-epoch permutations), so a resumed run draws the same samples as an uninterrupted one. With P
processes (`accelerate launch`) and G gradient-accumulation micro-batches, the global batch is cut into G * P
equal, disjoint parts: micro-batch m of process p takes part m * P + p (`shard_positions`). Every process thus
draws distinct samples, and the union over processes and micro-batches is exactly the single-process batch.
"""

from __future__ import annotations

import numpy as np


def batch_indices(step: int, batch_size: int, count: int, seed: int) -> np.ndarray:
    """Sample indices of `step`: consecutive slices of per-epoch permutations seeded by (seed, epoch).

    Args:
        step: The optimizer step.
        batch_size: Samples per step (the global batch, over all processes and micro-batches).
        count: Samples in the training set.
        seed: The run's seed.

    Returns:
        (batch_size,) int64 indices into the training set; every sample appears once per epoch.
    """
    positions = np.arange(step * batch_size, (step + 1) * batch_size)
    epochs, offsets = positions // count, positions % count
    out = np.empty(batch_size, np.int64)
    for epoch in np.unique(epochs):
        perm = np.random.default_rng([seed, int(epoch)]).permutation(count)
        mask = epochs == epoch
        out[mask] = perm[offsets[mask]]
    return out


def shard_positions(batch_size: int, processes: int, accumulation: int, micro: int, rank: int) -> np.ndarray:
    """Positions (into the step's global batch) of micro-batch `micro` on process `rank`.

    Args:
        batch_size: The global batch; must be divisible by processes * accumulation.
        processes: P, processes training together.
        accumulation: G, micro-batches per optimizer step.
        micro: 0 <= micro < G.
        rank: 0 <= rank < P.

    Raises:
        ValueError: batch_size is not divisible by P * G.
    """
    parts = processes * accumulation
    if batch_size % parts:
        raise ValueError(f"batch size {batch_size} is not divisible by processes x gradient accumulation "
                         f"= {processes} x {accumulation}")
    size = batch_size // parts
    start = (micro * processes + rank) * size
    return np.arange(start, start + size)
