"""The learning-rate schedule every eva-bench trainer uses: linear warm-up, then cosine decay to a tenth."""

from __future__ import annotations

import math


def warmup_cosine(step: int, lr: float, warmup: int, steps: int) -> float:
    """The learning rate of optimizer step `step` (0-based).

    Linear warm-up from lr / warmup to `lr` over the first `warmup` steps, then a cosine decay that reaches
    lr / 10 at step `steps` (and stays there beyond it).

    Args:
        step: The step about to be taken.
        lr: The peak learning rate.
        warmup: Warm-up steps (0: none).
        steps: Steps of the whole run.
    """
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
