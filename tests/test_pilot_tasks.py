"""Success rules and randomization ranges of the three pilot tasks, checked by placing objects by hand."""

from __future__ import annotations

import numpy as np
import pytest
import sapien

from eva_bench.motion import Motion
from eva_bench.sim.embodiment import arm_slice, gripper_index
from eva_bench.sim.env import BimanualEnv
from eva_bench.sim.poses import frame
from eva_bench.sim.urdf import TIP_MARGIN
from eva_bench.task import TASKS


@pytest.fixture(scope="module")
def env() -> BimanualEnv:
    return BimanualEnv()


def set_grippers(env: BimanualEnv, left: float, right: float, steps: int = 12) -> None:
    """Command both grippers through the normal action path (the gripper speed limit applies)."""
    action = env.command.copy()
    action[gripper_index("left")], action[gripper_index("right")] = left, right
    for _ in range(steps):
        env.step(action)


def teleport_arm(env: BimanualEnv, arm: str, qpos: np.ndarray, gripper: float) -> None:
    """Put an arm at `qpos` and make that the commanded state (test set-up only)."""
    env.arms[arm].reset(qpos, gripper)
    env.command[arm_slice(arm)] = qpos
    env.command[gripper_index(arm)] = gripper


# ------------------------------------------------------------------------------------------ click_bell
def press_pose(env: BimanualEnv, task, offset=(0.0, 0.0)) -> np.ndarray:
    """Joint values putting the closed finger tips 5 mm into the bell at the button (+ an xy offset)."""
    motion = Motion(env)
    button = task.bell.contact_world(0).p + [*offset, 0.0]
    reach = button[:2] - np.asarray(env.embodiment.mounts[0 if task.arm == "left" else 1].xyz[:2])
    pose = frame([0, 0, -1], [-reach[1], reach[0], 0.0], button + [0, 0, TIP_MARGIN - 0.005])
    for tilt in np.deg2rad([0, 15, 30, 45, 60]):
        for sign in (1, -1):
            tilted = pose * sapien.Pose(q=[np.cos(sign * tilt / 2), 0, np.sin(sign * tilt / 2), 0])
            try:
                return motion.planners[task.arm].ik(tilted, env.arm_qpos(task.arm))
            except Exception:  # noqa: BLE001 - try the next tilt
                continue
    raise AssertionError("no pose reaches the bell")


@pytest.mark.parametrize("seed", [0, 3])
def test_click_bell_success_rule(env, seed) -> None:
    cls = TASKS.get("click_bell")
    task = env.reset(cls, seed)
    teleport_arm(env, task.arm, press_pose(env, task), gripper=0.0)
    env.step(env.command)
    assert task.check_success(), "closed gripper on the button"
    # Same contact, but the gripper command no longer reads "closed" (< 0.2): RoboTwin's rule refuses it.
    env.command[gripper_index(task.arm)] = 0.3
    assert env.contacts(task.bell.entity, env.gripper_entities())
    assert not task.check_success(), "a gripper that is not commanded closed must not count"

    task = env.reset(cls, seed)
    teleport_arm(env, task.arm, press_pose(env, task, offset=(0.0, 0.04)), gripper=0.0)
    env.step(env.command)
    assert not task.check_success(), "a touch 4 cm from the button must not count"


def test_click_bell_randomization(env) -> None:
    for seed in range(30):
        p = env.reset(TASKS.get("click_bell"), seed).bell.pose.p
        assert -0.25 <= p[0] <= 0.25 and abs(p[0]) >= 0.05 and -0.2 <= p[1] <= 0.0


# ------------------------------------------------------------------------------------------ place_container_plate
def put(obj, position) -> None:
    obj.set_pose(sapien.Pose(position, obj.pose.q))


@pytest.mark.parametrize("seed", [0, 1])
def test_place_container_plate_success_rule(env, seed) -> None:
    cls = TASKS.get("place_container_plate")
    task = env.reset(cls, seed)
    on_plate = task.plate.functional_world(0).p + [0, 0, 0.002]
    put(task.container, on_plate)
    env.step(env.command)
    assert task.check_success()

    task = env.reset(cls, seed)
    put(task.container, task.plate.functional_world(0).p + [0.06, 0, 0.002])
    env.step(env.command)
    assert not task.check_success(), "6 cm off the plate centre is outside the 5 cm box"

    task = env.reset(cls, seed)
    put(task.container, task.plate.functional_world(0).p + [0, 0, 0.002])
    set_grippers(env, 1.0, 0.0)
    assert not task.check_success(), "a closed gripper must not count"


def test_place_container_plate_randomization(env) -> None:
    for seed in range(30):
        task = env.reset(TASKS.get("place_container_plate"), seed)
        c, p = task.container.pose.p, task.plate.pose.p
        assert 0.2 <= abs(c[0]) <= 0.28 and -0.1 <= c[1] <= 0.05
        side = np.sign(c[0])
        assert side * 0.05 - 0.03 <= p[0] <= side * 0.05 + 0.03 and -0.15 <= p[1] <= -0.1


# ------------------------------------------------------------------------------------------ handover_block
def stand_on_pad(task, offset=(0.0, 0.0, 0.0)) -> None:
    bottom_to_origin = task.block.pose.p - task.block.functional_world(0).p
    target = task.pad.functional_world(1).p + bottom_to_origin + np.asarray(offset) + [0, 0, 0.001]
    task.block.set_pose(sapien.Pose(target, task.block.pose.q))


@pytest.mark.parametrize("seed", [0, 1])
def test_handover_block_success_rule(env, seed) -> None:
    cls = TASKS.get("handover_block")
    task = env.reset(cls, seed)
    stand_on_pad(task)
    env.step(env.command)
    assert task.check_success()

    task = env.reset(cls, seed)
    stand_on_pad(task, offset=(0.04, 0.0, 0.0))
    env.step(env.command)
    assert not task.check_success(), "4 cm off the pad centre is outside the 3 cm box"

    task = env.reset(cls, seed)
    stand_on_pad(task)
    set_grippers(env, 1.0, 0.0)
    assert not task.check_success(), "the right gripper must be open"


def test_handover_block_randomization(env) -> None:
    for seed in range(30):
        task = env.reset(TASKS.get("handover_block"), seed)
        b, p = task.block.pose.p, task.pad.pose.p
        assert -0.25 <= b[0] <= -0.05 and 0.0 <= b[1] <= 0.25
        assert 0.1 <= p[0] <= 0.25 and 0.15 <= p[1] <= 0.2
