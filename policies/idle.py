"""`idle`: holds the initial pose (a lower bound every policy should beat)."""

from __future__ import annotations

import numpy as np

from eva_bench.policy import Policy


class IdlePolicy(Policy):
    """Commands the current joint targets forever: the arms never move."""

    name = "idle"

    def act(self, obs: dict) -> np.ndarray:
        return obs["joint_action"]["vector"][None].astype(np.float32)
