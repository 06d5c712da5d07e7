"""`random`: uniformly random joint and gripper targets, seeded by the episode (a chance-level baseline)."""

from __future__ import annotations

import numpy as np

from eva_bench.policy import Policy, register_policy
from eva_bench.sim.embodiment import PIPER_BIMANUAL


@register_policy
class RandomPolicy(Policy):
    """Draws a new random target within the joint limits every `hold` steps (the environment's speed limits
    turn it into a random walk). Seeded by the evaluation seed, so runs are reproducible.

    Args:
        hold: Control steps each random target is held (default 10).
    """

    name = "random"

    def __init__(self, checkpoint: str | None = None, hold: int = 10) -> None:
        super().__init__(checkpoint)
        if int(hold) < 1:
            raise ValueError(f"hold must be >= 1, got {hold}")
        self.hold = int(hold)
        self._rng = np.random.default_rng(0)
        self._low, self._high = PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()

    def reset(self, task: str, instruction: str, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, obs: dict) -> np.ndarray:
        target = self._rng.uniform(self._low, self._high).astype(np.float32)
        return np.repeat(target[None], self.hold, axis=0)
