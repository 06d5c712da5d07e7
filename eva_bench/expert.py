"""Running a task's scripted expert on a seed: RoboTwin's expert check and the source of demonstrations.

The expert plays in a physics-only environment (no cameras). A seed is solvable when the scene is stable, the
expert's plan completes, and the task's success latch fired; the executed 14-dim actions are returned so they
can be replayed exactly (the simulation is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eva_bench.motion import Motion
from eva_bench.sim.embodiment import ACTION_DIM, PIPER_BIMANUAL, EmbodimentSpec
from eva_bench.sim.env import BimanualEnv, UnstableSceneError
from eva_bench.sim.planner import PlanningError
from eva_bench.task import TASKS, Task


@dataclass
class ExpertResult:
    """Outcome of one expert run.

    Args:
        solvable: Whether the expert solved the seed.
        actions: The executed actions (N, 14) float32.
        reason: Why the seed is not solvable ("" when it is).
    """

    solvable: bool
    actions: np.ndarray = field(default_factory=lambda: np.zeros((0, ACTION_DIM), np.float32))
    reason: str = ""


def run_expert(
    task: str | type[Task], seed: int, embodiment: EmbodimentSpec = PIPER_BIMANUAL, env: BimanualEnv | None = None
) -> ExpertResult:
    """Play `task`'s scripted expert on `seed`; never raises for an unsolvable seed."""
    task_cls = TASKS.get(task) if isinstance(task, str) else task
    env = env or BimanualEnv(embodiment)
    try:
        instance = env.reset(task_cls, seed)
    except UnstableSceneError as error:
        return ExpertResult(False, reason=f"unstable scene: {error}")
    motion = Motion(env)
    try:
        instance.play_expert(motion)
    except PlanningError as error:
        return ExpertResult(False, _stack(motion.actions), f"planning failed: {error}")
    actions = _stack(motion.actions)
    if not env.success:
        return ExpertResult(False, actions, "expert finished without success")
    return ExpertResult(True, actions)


def replay(env: BimanualEnv, task: str | type[Task], seed: int, actions: np.ndarray) -> list[dict]:
    """Replay `actions` on `task` at `seed` in `env` (with whatever cameras it has) and return the observation
    of every frame: the initial one, then one after each action (T + 1 in all, RoboTwin's row alignment).

    Raises:
        RuntimeError: The replay did not end in success (the simulation is deterministic, so this means the
            actions do not come from a successful plan of this seed).
    """
    task_cls = TASKS.get(task) if isinstance(task, str) else task
    env.reset(task_cls, seed)
    rows = [env.get_obs()]
    for action in actions:
        env.step(action)
        rows.append(env.get_obs())
    if not env.success:
        raise RuntimeError(f"{task_cls.name} seed {seed}: the replayed actions did not succeed")
    return rows


def expert_video(env: BimanualEnv, task: str, seed: int, camera: str) -> tuple[np.ndarray, np.ndarray]:
    """The ground-truth video (T + 1, H, W, 3) of `camera` (which `env` must render) of the scripted expert
    solving `task` at `seed`, and its actions (T, 14).

    Raises:
        RuntimeError: The expert cannot solve that seed.
    """
    plan = run_expert(task, seed)
    if not plan.solvable:
        raise RuntimeError(f"the expert cannot solve {task} seed {seed}: {plan.reason}")
    rows = replay(env, task, seed, plan.actions)
    return np.stack([row["observation"][camera]["rgb"] for row in rows]), plan.actions


def _stack(actions: list[np.ndarray]) -> np.ndarray:
    return np.asarray(actions, np.float32).reshape(-1, ACTION_DIM)
