"""`expert`: the task's scripted expert, planned on a private copy of the episode and replayed as chunks."""

from __future__ import annotations

import numpy as np

from eva_bench.expert import run_expert
from eva_bench.policy import Policy, register_policy


@register_policy
class ExpertPolicy(Policy):
    """Replays the scripted expert's plan for the episode's seed through the normal action interface.

    On `reset` the expert solves the same task and seed in a physics-only environment; because the simulation
    is deterministic, replaying its actions reproduces the solution. It reads no observation.

    Args:
        chunk_size: Actions returned per `act` call (default 25).
    """

    name = "expert"

    def __init__(self, checkpoint: str | None = None, chunk_size: int = 25) -> None:
        super().__init__(checkpoint)
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)
        self._actions = np.zeros((0, 14), np.float32)
        self._cursor = 0

    def reset(self, task: str, instruction: str, seed: int) -> None:
        result = run_expert(task, seed)
        if not result.solvable:
            raise RuntimeError(f"the expert cannot solve {task} seed {seed}: {result.reason}")
        self._actions, self._cursor = result.actions, 0

    def act(self, obs: dict) -> np.ndarray:
        if self._cursor >= len(self._actions):  # plan finished: hold the last command
            return obs["joint_action"]["vector"][None].astype(np.float32)
        chunk = self._actions[self._cursor : self._cursor + self.chunk_size]
        self._cursor += len(chunk)
        return chunk
