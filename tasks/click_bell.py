"""click_bell: press the button of a desk bell."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.motion import Motion
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.objects import COLOURS, ShapeBuilder, SimObject
from eva_bench.task import Task, register_task

# (base radius, body radius, body height) of the bell models, in metres.
_MODELS = ((0.045, 0.032, 0.030), (0.05, 0.036, 0.024), (0.04, 0.028, 0.034))
_COLOURS = ("silver", "gold", "red", "blue", "black")


def build_bell(scene: sapien.Scene, rng: np.random.Generator, position) -> SimObject:
    """A static desk bell: a flat base, a domed body and a button; contact point 0 is the button top."""
    base_r, body_r, body_h = _MODELS[int(rng.integers(len(_MODELS)))]
    colour = _COLOURS[int(rng.integers(len(_COLOURS)))]
    builder = ShapeBuilder(scene, "bell")
    builder.cylinder(base_r, 0.004, COLOURS["black"], sapien.Pose([0, 0, 0.004]))
    builder.cylinder(body_r, body_h / 2, COLOURS[colour], sapien.Pose([0, 0, 0.008 + body_h / 2]))
    builder.sphere(body_r * 0.85, COLOURS[colour], sapien.Pose([0, 0, 0.008 + body_h]))
    top = 0.008 + body_h + body_r * 0.85
    builder.cylinder(0.007, 0.005, COLOURS["black"], sapien.Pose([0, 0, top + 0.002]))
    entity = builder.build(sapien.Pose(position), kind="static")
    button = sapien.Pose([0, 0, top + 0.007], [0.7071068, 0, 0.7071068, 0])  # approach pointing down
    return SimObject(entity, "bell", contact_points=[button], attributes={"colour": colour})


@register_task
class ClickBell(Task):
    """Press the bell's button with the gripper closed, using the arm on the bell's side.

    Randomizations:
        - bell model (3 sizes) and colour (5)
        - x ~ U[-0.25, 0.25] with |x| >= 0.05, y ~ U[-0.2, 0.0]; no rotation

    Success conditions:
        - the gripper of the arm on the bell's side is commanded closed (< 0.2), and
        - a gripper-bell contact lies within |dx|, |dy| < 0.025 m and |dz| < 0.03 m of the button top
    """

    name = "click_bell"
    step_limit = 400
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

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.bell.attributes["colour"]}

    def check_success(self) -> bool:
        if not self.env.gripper_closed(self.arm):
            return False
        button = self.bell.contact_world(0).p
        for point in self.env.contacts(self.bell.entity, self.env.gripper_entities()):
            d = np.abs(point - button)
            if d[0] < 0.025 and d[1] < 0.025 and d[2] < 0.03:
                return True
        return False

    def play_expert(self, motion: Motion) -> None:
        motion.press(self.arm, self.bell.contact_world(0).p, pre_dis=0.08, depth=0.01, target=self.bell)
