"""Putting a scene into a chosen configuration by hand, for the `Task.stage()` test hook.

Success rules are tested by teleporting objects (and the arms) into configurations that just satisfy or
just miss a rule, instead of trusting the expert to find the boundary. These helpers keep that code short
and the same in every task.
"""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.sim.embodiment import ARMS, arm_slice, gripper_index
from eva_bench.sim.env import BimanualEnv
from eva_bench.sim.objects import SimObject
from eva_bench.sim.planner import PlanningError
from eva_bench.sim.poses import frame
from eva_bench.sim.urdf import TIP_MARGIN

_TILTS = np.deg2rad([0, 15, 30, 45, 60])


def set_gripper(env: BimanualEnv, arm: str, value: float) -> None:
    """Make `value` the commanded gripper value of `arm` (what RoboTwin's open/closed checks read)."""
    env.command[gripper_index(arm)] = value


def set_grippers(env: BimanualEnv, left: float, right: float) -> None:
    """Command both grippers."""
    set_gripper(env, "left", left)
    set_gripper(env, "right", right)


def teleport_arm(env: BimanualEnv, arm: str, qpos: np.ndarray, gripper: float) -> None:
    """Put an arm at `qpos` with its gripper at `gripper` and make that the commanded state."""
    env.arms[arm].reset(np.asarray(qpos, float), gripper)
    env.command[arm_slice(arm)] = qpos
    env.command[gripper_index(arm)] = gripper


def place_point(obj: SimObject, point: sapien.Pose, target, orientation=None) -> None:
    """Teleport `obj` so that its local frame `point` lands at world position `target` (keeping or setting
    the object's orientation)."""
    q = obj.pose.q if orientation is None else np.asarray(orientation, float)
    turned = sapien.Pose([0, 0, 0], q)
    obj.set_pose(sapien.Pose(np.asarray(target, float) - (turned * point).p, q))


def put(obj: SimObject, position, orientation=None) -> None:
    """Teleport `obj`'s origin to `position` (keeping or setting its orientation)."""
    place_point(obj, sapien.Pose(), position, orientation)


def put_functional(obj: SimObject, index: int, target, orientation=None) -> None:
    """Teleport `obj` so that its functional point `index` lands at `target`."""
    place_point(obj, obj.functional_points[index], target, orientation)


def press_qpos(env: BimanualEnv, arm: str, point, depth: float = 0.005) -> np.ndarray:
    """Joint values that put `arm`'s closed finger tips `depth` below world `point`, approaching from above
    (tilted toward the arm's reach direction when the wrist needs it).

    Raises:
        PlanningError: No tilt reaches the point.
    """
    planner = _free_planner(env, arm)
    point = np.asarray(point, float)
    reach = point[:2] - np.asarray(env.embodiment.mounts[ARMS.index(arm)].xyz[:2])
    pose = frame([0, 0, -1], [-reach[1], reach[0], 0.0], point + [0, 0, TIP_MARGIN - depth])
    for tilt in _TILTS:
        for sign in (1, -1):
            tilted = pose * sapien.Pose(q=[np.cos(sign * tilt / 2), 0, np.sin(sign * tilt / 2), 0])
            try:
                return planner.ik(tilted, env.arm_qpos(arm))
            except PlanningError:
                continue
    raise PlanningError(f"{arm} arm cannot press at {point}")


def grasp_qpos(env: BimanualEnv, arm: str, tcp: sapien.Pose) -> np.ndarray:
    """Joint values that put `arm`'s TCP at `tcp` (or at `tcp` turned 180 deg about its approach axis)."""
    return _free_planner(env, arm).ik(tcp, env.arm_qpos(arm))


def _free_planner(env: BimanualEnv, arm: str):
    """`arm`'s planner with no obstacles: a staged pose is meant to touch the objects."""
    from eva_bench.motion import Motion  # motion imports the planner stack; staging stays light to import

    planner = Motion(env).planners[arm]
    planner.set_obstacles([])
    return planner


def push_qpos(env: BimanualEnv, arm: str, contact: sapien.Pose, depth: float = 0.0) -> np.ndarray:
    """Joint values that put `arm`'s closed finger tips `depth` past the contact frame `contact` along its
    approach axis (as `Motion.push` does), tilting the frame about its closing axis when the wrist needs it.

    Raises:
        PlanningError: No tilt reaches the frame.
    """
    planner = _free_planner(env, arm)
    for tilt in _TILTS:
        for sign in (1, -1):
            tilted = contact * sapien.Pose(q=[np.cos(sign * tilt / 2), 0, np.sin(sign * tilt / 2), 0])
            approach = tilted.to_transformation_matrix()[:3, 0]
            try:
                return planner.ik(sapien.Pose(tilted.p - (TIP_MARGIN - depth) * approach, tilted.q), env.arm_qpos(arm))
            except PlanningError:
                continue
    raise PlanningError(f"{arm} arm cannot push at {np.round(contact.p, 3)}")


def teleport_hold(env: BimanualEnv, arm: str, centre, across, half_width: float, closed: bool = True) -> None:
    """Teleport `arm` to hold something at world `centre` from above: the fingers close along the horizontal
    `across` and rest `half_width` from the centre (just touching a body of that half width). The command reads
    closed (0.0), or half open (0.5) when `closed` is False, while the fingers stay where they touch.

    Raises:
        PlanningError: The wrist cannot reach the hold.
    """
    tcp = frame([0, 0, -1], across, centre)
    qpos = _free_planner(env, arm).ik(tcp, env.arm_qpos(arm))
    teleport_arm(env, arm, qpos, env.arms[arm].gripper_for(half_width))
    set_gripper(env, arm, 0.0 if closed else 0.5)
