"""What the simulator needs from a task: the env's side of the task contract.

`BimanualEnv.reset(task_cls, seed)` calls `task_cls(env, np.random.default_rng(seed))`, then `load()` once on
the fresh scene; `step` calls `check_success()` after every physics sub-step. That is all `eva_bench.sim` knows
of a task. The full contract (instructions, the scripted expert, staging, ...) is `eva_bench.task.Task`, which
satisfies this protocol; `eva_bench.sim` never imports it, so the simulator does not depend on the task layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np

    from eva_bench.sim.env import BimanualEnv

T_co = TypeVar("T_co", bound="SimTask", covariant=True)


class SimTask(Protocol):
    """A task instance as the env uses it."""

    def load(self) -> None:
        """Create and place the task's objects in `env.scene` (called once, right after construction)."""

    def check_success(self) -> bool:
        """Whether the task is solved right now (called after every physics sub-step; keep it cheap)."""


class TaskFactory(Protocol[T_co]):
    """What `BimanualEnv.reset` accepts: a task class (or any callable) building a task for one episode."""

    def __call__(self, env: BimanualEnv, rng: np.random.Generator, /) -> T_co:
        """A task for `env`, drawing all its randomness from `rng` (the episode's seeded generator)."""
