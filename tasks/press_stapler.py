"""press_stapler: press down on the top of a stapler near its front end."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.stapler import build_stapler
from eva_bench.motion import Motion
from eva_bench.sim.poses import yaw_quat
from eva_bench.staging import press_qpos, set_gripper, teleport_arm
from eva_bench.task import Ranges, Task, register_task

_PRESS_POINT = 2  # the stapler's contact point on top of the arm near the front (RoboTwin's contact point 2)


@register_task
class PressStapler(Task):
    """Press the stapler's arm down near its front end with one gripper.

    Randomizations:
        - stapler model (7 widths/heights/press points, 9.6 cm long) and colour (7); static
        - x ~ U[-0.2, 0.2], y ~ U[-0.1, 0.05]; yaw ~ U[-pi, pi]

    Success conditions:
        - a contact of the chosen arm's gripper with the stapler lies within |dx|, |dy| < 0.03 m and
          |dz| < 0.03 m of the press point (contact point 2, on top of the arm near the front), and
        - (v2, beyond RoboTwin) that gripper is commanded closed (< 0.2, RoboTwin's click rule) and points
          down (approach within 45 deg of straight down); RoboTwin has no gripper or arm condition here
    """

    name = "press_stapler"
    version = 2  # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's")
    expert_max_steps = 42
    near_misses = ("no_contact", "press_rear_end", "gripper_not_closed")
    arms = "single"
    seen_instructions = (
        "press the {colour} stapler",
        "press down on the {colour} stapler",
        "push the top of the {colour} stapler down",
        "use one arm to press the {colour} stapler",
        "staple with the {colour} stapler by pressing it",
        "press the front of the {colour} stapler",
        "push down on the front end of the {colour} stapler",
        "press the {colour} stapler's arm",
        "close the gripper and press the {colour} stapler",
        "click the {colour} stapler",
        "give the {colour} stapler a press",
        "tap down on the {colour} stapler",
        "press on top of the {colour} stapler near its tip",
        "use the nearer arm to press the {colour} stapler",
        "reach over and press the {colour} stapler",
        "press the {colour} stapler on the table",
        "push the {colour} stapler's head down",
        "press the head of the {colour} stapler",
        "press down firmly on the {colour} stapler",
        "operate the {colour} stapler by pushing its top",
        "bring the gripper down onto the {colour} stapler",
    )
    unseen_instructions = (
        "clamp the {colour} stapler shut",
        "squeeze the {colour} stapler from above",
        "punch down the {colour} stapler",
        "depress the {colour} stapler's lever",
        "staple something using the {colour} stapler on the desk",
    )

    def load(self) -> None:
        x, y = self.rng.uniform(-0.2, 0.2), self.rng.uniform(-0.1, 0.05)
        yaw = self.rng.uniform(-np.pi, np.pi)
        pose = sapien.Pose([x, y, self.env.embodiment.table_height], yaw_quat(yaw))
        self.stapler = build_stapler(self.env.scene, self.rng, pose, kind="static")
        self.arm = "left" if x < 0 else "right"

    def randomization_ranges(self) -> Ranges:
        return {"stapler": {"x": (-0.2, 0.2), "y": (-0.1, 0.05), "yaw": (-np.pi, np.pi)}}

    def stage(self, case: str) -> None:
        target = self.stapler.contact_world(_PRESS_POINT).p
        if case == "no_contact":  # right above the press point, finger tips 1.5 cm clear of the top
            target = target + [0.0, 0.0, 0.02]
        elif case == "press_rear_end":  # on top of the arm at its rear end
            target = (self.stapler.pose * sapien.Pose([-0.044, 0.0, 0.0])).p
            target[2] = self.stapler.contact_world(_PRESS_POINT).p[2]
        teleport_arm(self.env, self.arm, press_qpos(self.env, self.arm, target), 0.0)
        if case == "gripper_not_closed":  # same contact, but the command no longer reads "closed" (< 0.2)
            set_gripper(self.env, self.arm, 0.3)

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.stapler.attributes["colour"]}

    def check_success(self) -> bool:
        return self.pressing(self.arm, self.stapler.entity, self.stapler.contact_world(_PRESS_POINT).p, (0.03,) * 3)

    def play_expert(self, motion: Motion) -> None:
        point = self.stapler.contact_world(_PRESS_POINT).p
        motion.press(self.arm, point, pre_dis=0.08, depth=0.01, target=self.stapler)
