"""click_bell: press the button of a desk bell."""

from __future__ import annotations

from eva_bench.assets.bell import build_bell
from eva_bench.motion import Motion
from eva_bench.sim.layout import sample_xy
from eva_bench.staging import press_qpos, set_gripper, teleport_arm
from eva_bench.task import Ranges, Task, register_task


@register_task
class ClickBell(Task):
    """Press the bell's button with the gripper closed, using the arm on the bell's side.

    Randomizations:
        - bell model (3 sizes) and colour (5)
        - x ~ U[-0.25, 0.25] with |x| >= 0.05, y ~ U[-0.2, 0.0]; no rotation

    Success conditions:
        - the gripper of the arm on the bell's side is commanded closed (< 0.2), and
        - a contact of that gripper with the bell lies within |dx|, |dy| < 0.025 m and |dz| < 0.03 m of the button
          top (RoboTwin: any gripper's contact), and
        - (v2, beyond RoboTwin) that gripper points down (approach within 45 deg of straight down)
    """

    name = "click_bell"
    version = 2  # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's")
    expert_max_steps = 44
    near_misses = ("gripper_not_closed", "touch_off_button")
    arms = "single"
    seen_instructions = (
        "press the {colour} bell",
        "click the {colour} bell",
        "ring the {colour} bell",
        "tap the button on the {colour} bell",
        "push down on the {colour} bell's button",
        "use one arm to ring the {colour} bell",
        "ring the {colour} desk bell once",
        "press the top of the {colour} bell",
        "give the {colour} bell a ring",
        "hit the button of the {colour} bell",
        "close the gripper and press the {colour} bell",
        "strike the {colour} bell on the table",
        "press the {colour} bell's button with the gripper",
        "ring the {colour} bell in front of you",
        "tap the {colour} bell",
        "click the button on top of the {colour} bell",
        "make the {colour} bell ring",
        "reach the {colour} bell and press it",
        "push the {colour} bell's top button",
        "press down on the {colour} call bell",
        "use the nearer arm to click the {colour} bell",
    )
    unseen_instructions = (
        "sound the {colour} service bell",
        "ding the {colour} bell",
        "give the {colour} counter bell a press",
        "press the plunger of the {colour} bell",
        "activate the {colour} bell by pressing it",
    )

    def load(self) -> None:
        x, y = sample_xy(self.rng, (-0.25, 0.25), (-0.2, 0.0), min_abs_x=0.05)
        self.bell = build_bell(self.env.scene, self.rng, [x, y, self.env.embodiment.table_height])
        self.arm = self.side_arm(self.bell)

    def randomization_ranges(self) -> Ranges:
        return {"bell": {"x": (-0.25, 0.25), "abs_x": (0.05, 0.25), "y": (-0.2, 0.0)}}

    def stage(self, case: str) -> None:
        offset = [0.0, 0.04, 0.0] if case == "touch_off_button" else [0.0, 0.0, 0.0]
        teleport_arm(self.env, self.arm, press_qpos(self.env, self.arm, self.bell.contact_world(0).p + offset), 0.0)
        if case == "gripper_not_closed":  # same contact, but the command no longer reads "closed" (< 0.2)
            set_gripper(self.env, self.arm, 0.3)

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.bell.attributes["colour"]}

    def check_success(self) -> bool:
        return self.pressing(self.arm, self.bell.entity, self.bell.contact_world(0).p, (0.025, 0.025, 0.03))

    def play_expert(self, motion: Motion) -> None:
        motion.press(self.arm, self.bell.contact_world(0).p, pre_dis=0.08, depth=0.01, target=self.bell)
