"""`expert`: the task's scripted expert, planned on a private copy of the episode and replayed as chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eva_bench.expert import run_expert
from eva_bench.policy import Policy, PolicyConfig


@dataclass
class ExpertConfig(PolicyConfig):
    """Settings of the `expert` policy.

    Args:
        chunk_size: Actions of the expert's plan returned per `act` call (>= 1).
    """

    chunk_size: int = 25

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")


class ExpertPolicy(Policy):
    """Replays the scripted expert's plan for the episode's seed through the normal action interface.

    On `reset` the expert solves the same task and seed in a physics-only environment; because the simulation
    is deterministic, replaying its actions reproduces the solution. It reads no observation.
    """

    name = "expert"
    config_class = ExpertConfig

    def __init__(self, config: ExpertConfig | None = None, checkpoint: str | None = None) -> None:
        super().__init__(config, checkpoint)
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
        chunk = self._actions[self._cursor : self._cursor + self.config.chunk_size]
        self._cursor += len(chunk)
        return chunk
