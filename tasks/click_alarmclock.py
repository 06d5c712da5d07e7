"""click_alarmclock: press the button on top of an alarm clock."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.alarm_clock import build_alarm_clock
from eva_bench.motion import Motion
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.poses import yaw_quat
from eva_bench.staging import press_qpos, set_gripper, teleport_arm
from eva_bench.task import Ranges, Task, register_task


@register_task
class ClickAlarmclock(Task):
    """Press the alarm clock's top button with the gripper closed, using the arm on the clock's side.

    Randomizations:
        - clock kind (twin-bell or digital, 14-17 cm wide, 10-19 cm tall), size (2) and colour (7); static
        - x ~ U[-0.25, 0.25] with |x| >= 0.05, y ~ U[-0.2, 0.0]; yaw ~ U[-3.14, 3.14]

    Success conditions:
        - the gripper of the arm on the clock's side is commanded closed (< 0.2), and
        - a contact of that gripper with the clock lies within |dx|, |dy| < 0.03 m and |dz| < 0.03 m of the button
          top (RoboTwin: any gripper's contact), and
        - (v2, beyond RoboTwin) that gripper points down (approach within 45 deg of straight down)
    """

    name = "click_alarmclock"
    version = 2  # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's")
    expert_max_steps = 44
    near_misses = ("gripper_not_closed", "touch_off_button")
    arms = "single"
    seen_instructions = (
        "press the button on the {colour} alarm clock",
        "click the {colour} alarm clock",
        "push the top button of the {colour} alarm clock",
        "press the {colour} alarm clock's button",
        "tap the button on top of the {colour} alarm clock",
        "turn off the {colour} alarm clock by pressing its button",
        "use one arm to press the {colour} alarm clock",
        "press down on the {colour} {kind} alarm clock",
        "click the button of the {colour} {kind} clock",
        "push the {colour} alarm clock's top button down",
        "close the gripper and press the {colour} alarm clock",
        "press the {colour} clock's alarm button",
        "hit the button on the {colour} alarm clock",
        "reach the {colour} alarm clock and click its button",
        "use the nearer arm to press the {colour} alarm clock",
        "press the top of the {colour} alarm clock",
        "click the {colour} {kind} alarm clock on the table",
        "tap the {colour} alarm clock's button once",
        "push down the button of the {colour} clock",
        "press the {colour} alarm clock to stop the alarm",
        "stop the {colour} alarm clock by clicking it",
    )
    unseen_instructions = (
        "silence the {colour} alarm clock",
        "hit snooze on the {colour} clock",
        "shut the {colour} alarm up with one press",
        "give the button atop the {colour} {kind} clock a push",
        "switch off the ringing {colour} clock",
    )

    def load(self) -> None:
        x, y = sample_xy(self.rng, (-0.25, 0.25), (-0.2, 0.0), min_abs_x=0.05)
        yaw = self.rng.uniform(-3.14, 3.14)
        pose = sapien.Pose([x, y, self.env.embodiment.table_height], yaw_quat(yaw))
        self.clock = build_alarm_clock(self.env.scene, self.rng, pose)
        self.arm = self.side_arm(self.clock)

    def randomization_ranges(self) -> Ranges:
        return {"clock": {"x": (-0.25, 0.25), "abs_x": (0.05, 0.25), "y": (-0.2, 0.0), "yaw": (-3.14, 3.14)}}

    def stage(self, case: str) -> None:
        button = self.clock.contact_world(0).p
        if case == "touch_off_button":  # on the clock's top (or a bell), 7 cm to the side of the button
            button = (self.clock.pose * sapien.Pose([0.07, 0, 0])).p
            button[2] = self._top_at(button)
        teleport_arm(self.env, self.arm, press_qpos(self.env, self.arm, button), 0.0)
        if case == "gripper_not_closed":  # same contact, but the command no longer reads "closed" (< 0.2)
            set_gripper(self.env, self.arm, 0.3)

    def _top_at(self, point) -> float:
        """Height of the clock's top surface above `point` (a downward ray against its collision shapes)."""
        start, down = np.array([*point[:2], 1.2], np.float32), np.array([0, 0, -1], np.float32)
        hit = self.env.scene.physx_system.raycast(start, down, 1.0)
        return float(hit.position[2]) if hit is not None else float(point[2])

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.clock.attributes["colour"], "kind": self.clock.attributes["kind"]}

    def check_success(self) -> bool:
        return self.pressing(self.arm, self.clock.entity, self.clock.contact_world(0).p, (0.03, 0.03, 0.03))

    def play_expert(self, motion: Motion) -> None:
        motion.press(self.arm, self.clock.contact_world(0).p, pre_dis=0.08, depth=0.01, target=self.clock)
