"""`random`: uniformly random joint and gripper targets, seeded by the episode (a chance-level baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eva_bench.policy import Policy, PolicyConfig
from eva_bench.sim.embodiment import PIPER_BIMANUAL


@dataclass
class RandomConfig(PolicyConfig):
    """Settings of the `random` policy.

    Args:
        hold: Control steps each random target is held (>= 1).
    """

    hold: int = 10

    def __post_init__(self) -> None:
        if self.hold < 1:
            raise ValueError(f"hold must be >= 1, got {self.hold}")


class RandomPolicy(Policy):
    """Draws a new random target within the joint limits every `hold` steps (the environment's speed limits
    turn it into a random walk). Seeded by the evaluation seed, so runs are reproducible."""

    name = "random"
    config_class = RandomConfig

    def __init__(self, config: RandomConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
        self._rng = np.random.default_rng(0)
        self._low, self._high = PIPER_BIMANUAL.action_lower(), PIPER_BIMANUAL.action_upper()

    def reset(self, task: str, instruction: str, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, obs: dict) -> np.ndarray:
        target = self._rng.uniform(self._low, self._high).astype(np.float32)
        return np.repeat(target[None], self.config.hold, axis=0)
