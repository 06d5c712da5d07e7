"""turn_switch: push a rocker switch on with the closed gripper."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.switch import build_switch
from eva_bench.motion import Motion
from eva_bench.sim.embodiment import ARMS
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.planner import PlanningError
from eva_bench.sim.poses import rotation, yaw_quat
from eva_bench.staging import push_qpos, teleport_arm
from eva_bench.task import Ranges, Task, register_task

_BASE_YAW = 2 * np.arctan2(0.71006, 0.704141)  # RoboTwin's base quaternion [0.704141, 0, 0, 0.71006]
_YAW_RANGE = np.pi / 4
_Z_RANGE = (0.81, 0.84)  # RoboTwin's heights of the switch origin (the panel centre) above the floor
_ON_MARGIN = 0.05  # rad: "on" means within this of the upper limit
_PUSH_DEPTH = 0.02  # m past the rocker's face (v2: 0.012, which a push 1 cm short of the panel left flat)


@register_task
class TurnSwitch(Task):
    """Flip the rocker switch to its upper limit by pushing its protruding half.

    Randomizations:
        - switch model (4 panel and rocker sizes, hinge limits +-0.26..0.32 rad), panel colour (5), rocker colour
        - x ~ U[-0.25, 0.25], y ~ U[0, 0.1], panel centre z ~ U[0.81, 0.84] (a stand reaches the table);
          yaw 90.5 deg (facing the robot) + U[-45, 45] deg; the rocker starts at its lower limit ("off")

    Success conditions:
        - the rocker's hinge is within 0.05 rad of its upper limit, and
        - (v2, beyond RoboTwin) a closed gripper (< 0.2) touches the rocker's protruding upper half, its approach within
          65 deg of the push direction into the panel
    """

    name = "turn_switch"
    # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's"); v3: paddle rockers
    # and a deeper push, for a decoded push 2 cm off (docs/tasks/turn_switch.md); the rule is v2's
    version = 3
    expert_max_steps = 72
    near_misses = ("almost_on", "halfway", "pushed_lower_half")
    arms = "single"
    seen_instructions = (
        "turn on the {colour} switch",
        "flip the {colour} switch",
        "push the {rocker} rocker of the {colour} switch",
        "switch on the {colour} switch",
        "press the upper half of the {rocker} rocker on the {colour} switch",
        "toggle the {colour} switch on",
        "use the closed gripper to flip the {colour} switch",
        "push the {colour} switch's rocker in",
        "turn the {colour} switch to the on position",
        "flip the {rocker} rocker switch on the {colour} panel",
        "press the {colour} switch so its rocker flips",
        "click the {colour} switch on",
        "push in the top of the {rocker} rocker",
        "use one arm to turn on the {colour} switch",
        "activate the {colour} switch",
        "press the sticking-out half of the {colour} switch's rocker",
        "flip on the switch with the {rocker} rocker",
        "turn the {rocker} rocker on the {colour} panel on",
        "reach the {colour} switch and push its rocker",
        "switch the {colour} switch from off to on",
        "push the {colour} wall switch on",
    )
    unseen_instructions = (
        "power up by rocking the {rocker} paddle on the {colour} plate",
        "nudge the {colour} switch's {rocker} key until it clicks over",
        "poke the raised end of the {rocker} rocker so it sinks in",
        "change the {colour} switch's state to on",
        "give the {colour} light switch a push to turn it on",
    )

    def load(self) -> None:
        x, y = sample_xy(self.rng, (-0.25, 0.25), (0.0, 0.1))
        z = self.rng.uniform(*_Z_RANGE)
        yaw = _BASE_YAW + self.rng.uniform(-_YAW_RANGE, _YAW_RANGE)
        pose = sapien.Pose([x, y, z], yaw_quat(yaw))
        self.switch = build_switch(self.env.scene, self.rng, pose, self.env.embodiment.table_height)
        face = -rotation(self.switch.pose)[:, 0]
        self.arm = "right" if face[0] > 0 else "left"  # RoboTwin's expert arm: the side the switch faces

    def randomization_ranges(self) -> Ranges:
        return {"switch": {"x": (-0.25, 0.25), "y": (0.0, 0.1), "z": _Z_RANGE,
                           "yaw": (_BASE_YAW - _YAW_RANGE, _BASE_YAW + _YAW_RANGE)}}

    def stage(self, case: str) -> None:
        offset = {"success": 0.02, "almost_on": 0.07}.get(case, 0.02)
        upper = float(self.switch.upper[0])
        self.switch.set_qpos([0.0 if case == "halfway" else upper - offset])
        local = self.switch.contact_points[0][1]  # on the rocker's upper half, approach into the panel
        if case == "pushed_lower_half":  # the same spot mirrored onto the lower half
            local = sapien.Pose([local.p[0], local.p[1], -local.p[2]], local.q)
        # 1 mm clear of the face: touching, without shoving the light rocker off the staged angle
        qpos = push_qpos(self.env, self.arm, self.switch.link_pose("rocker") * local, depth=-0.001)
        teleport_arm(self.env, self.arm, qpos, 0.0)

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.switch.attributes["colour"], "rocker": self.switch.attributes["rocker"]}

    def check_success(self) -> bool:
        # RoboTwin checks the hinge only; a hand flailing through the switch flips it too, so a closed gripper must
        # be pushing the rocker's protruding (upper) half into the panel when it gets there (the intent).
        if self.switch.qpos[0] < self.switch.upper[0] - _ON_MARGIN:
            return False
        rocker, inward = self.switch.links["rocker"].entity, rotation(self.switch.pose)[:, 0]
        upper_half = self.switch.link_pose("rocker") * sapien.Pose([0.0, 0.0, 1.0])  # with box: rocker z in (0, 2)
        return any(self.pushing(arm, rocker, inward, upper_half, (np.inf, np.inf, 1.0)) for arm in ARMS)

    def play_expert(self, motion: Motion) -> None:
        other = "left" if self.arm == "right" else "right"
        for arm in (self.arm, other):  # RoboTwin's arm first; the other where our shorter arm cannot reach
            try:
                motion.push(arm, self.switch, pre_dis=0.05, depth=_PUSH_DEPTH)
                return
            except PlanningError:
                if arm == other:
                    raise
