"""place_cans_plasticbox: put two cans into the plastic box, one with each arm."""

from __future__ import annotations

import numpy as np

from eva_bench.assets.can import CAN_COLOURS, build_can
from eva_bench.assets.plastic_box import build_plastic_box
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.staging import put_functional, set_grippers
from eva_bench.task import Ranges, Task, register_task

_NEAR = 0.04  # success distance (m) between a can and the nearer spot of the box
# Heights (m): the Piper wrist reaches top-down only ~12 cm above the table, so these are lower than RoboTwin's
# (pre-grasp 0.1, lift 0.2, place pre 0.1, lift 0.08).
_GRASP_PRE = (0.1, 0.07, 0.05, 0.03)
_LIFT = 0.08
_PRE = (0.05, 0.03, 0.015)  # approach heights above the release pose (and retreats), in order of preference


@register_task
class PlaceCansPlasticbox(Task):
    """Both arms put their can into the plastic box between them.

    Randomizations:
        - plastic box (dynamic, 2 models, 6 colours): x = 0, y ~ U[-0.15, -0.1]; no rotation
        - two cans (6 models each, drawn independently; 8 colours, the two differ): left can x ~ U[-0.25, -0.15],
          right can x ~ U[0.15, 0.25], both y ~ U[-0.15, -0.07]; no rotation

    Success conditions:
        - each can's origin (bottom centre) within 0.04 m (xy) of one of the box's two spots (functional points 0
          and 1; both cans may use the same spot), and
        - both grippers commanded open (> 0.8)
    """

    name = "place_cans_plasticbox"
    expert_max_steps = 177
    near_misses = ("left_can_off", "right_can_off", "left_gripper_closed", "right_gripper_closed")
    arms = "dual"
    seen_instructions = (
        "put the {left} and the {right} into the {box} plastic box",
        "place both cans, the {left} and the {right}, in the {box} box",
        "move the {left} and the {right} into the {box} plastic box",
        "use both arms to put the {left} and the {right} in the {box} box",
        "pick up the {left} and the {right} and drop them into the {box} box",
        "store the {left} and the {right} in the {box} plastic container",
        "put the {left} into the {box} box with the left arm and the {right} with the right arm",
        "load the {box} plastic box with the {left} and the {right}",
        "place the {left} and the {right} inside the {box} box",
        "transfer the {left} and the {right} into the {box} plastic box",
        "set the {left} and the {right} into the {box} box between them",
        "grab the {left} and the {right} and put them in the {box} box",
        "pack the {left} and the {right} into the {box} plastic box",
        "put the two cans, the {left} and the {right}, into the {box} box",
        "move both cans into the {box} plastic box",
        "lift the {left} and the {right} into the {box} box",
        "place the {left} and the {right} upright in the {box} plastic box",
        "bring the {left} and the {right} over to the {box} box and put them inside",
        "put the {left} and the {right} in the {box} tub",
        "get the {left} and the {right} into the {box} plastic box",
        "collect the {left} and the {right} in the {box} box",
    )
    unseen_instructions = (
        "tidy away the {left} and the {right} into the {box} bin",
        "the {left} and the {right} go in the {box} box; put them there",
        "drop both the {left} and the {right} into the {box} storage box",
        "fill the {box} container with the {left} and the {right}",
        "stow the {left} and the {right} inside the {box} plastic tub",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        scene = self.env.scene
        self.box = build_plastic_box(scene, self.rng, [0.0, self.rng.uniform(-0.15, -0.1), z + 0.001], mass=0.05)
        lx, ly = sample_xy(self.rng, (-0.25, -0.15), (-0.15, -0.07))
        self.left_can = build_can(scene, self.rng, [lx, ly, z + 0.001], mass=0.05, name="left_can")
        rx, ry = sample_xy(self.rng, (0.15, 0.25), (-0.15, -0.07))
        colours = [c for c in CAN_COLOURS if c != self.left_can.attributes["colour"]]
        colour = colours[int(self.rng.integers(len(colours)))]
        self.right_can = build_can(scene, self.rng, [rx, ry, z + 0.001], mass=0.05, name="right_can", colour=colour)

    def randomization_ranges(self) -> Ranges:
        return {
            "box": {"x": (0.0, 0.0), "y": (-0.15, -0.1), "yaw": (0.0, 0.0)},
            "left_can": {"x": (-0.25, -0.15), "y": (-0.15, -0.07), "yaw": (0.0, 0.0)},
            "right_can": {"x": (0.15, 0.25), "y": (-0.15, -0.07), "yaw": (0.0, 0.0)},
        }

    def stage(self, case: str) -> None:
        # An off-spot can is held up over the wall, 1 cm beyond the success distance.
        left_off = [-(_NEAR + 0.01), 0.0, 0.06] if case == "left_can_off" else [0.0, 0.0, 0.0]
        right_off = [0.0, _NEAR + 0.01, 0.06] if case == "right_can_off" else [0.0, 0.0, 0.0]
        put_functional(self.left_can, 0, self.box.functional_world(1).p + left_off + [0, 0, 0.001])
        put_functional(self.right_can, 0, self.box.functional_world(0).p + right_off + [0, 0, 0.001])
        set_grippers(self.env, 0.0 if case == "left_gripper_closed" else 1.0,
                     0.0 if case == "right_gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        def describe(can) -> str:
            return f"{can.attributes['colour']} {can.attributes['kind']}"

        return {"left": describe(self.left_can), "right": describe(self.right_can),
                "box": self.box.attributes["colour"]}

    def check_success(self) -> bool:
        spots = [self.box.functional_world(i).p[:2] for i in (0, 1)]
        for can in (self.left_can, self.right_can):
            if min(np.linalg.norm(can.functional_world(0).p[:2] - s) for s in spots) >= _NEAR:
                return False
        return self.both_grippers_open()

    def _into(self, can, spot: int, placed=()) -> list[Placement]:
        """Into the box spot, released 2 cm above the floor; lower approaches and retreats come after, for where
        the wrist cannot reach that high."""
        return [Placement.of(can, self.box.functional_world(spot), 0, pre_dis=0.02 + pre, dis=0.02, lift=_LIFT,
                             retreat=pre, retreat_axis="up", supports=(self.box, *placed)) for pre in _PRE]

    def play_expert(self, motion: Motion) -> None:
        left_options = self._into(self.left_can, 1)
        right_options = self._into(self.right_can, 0, (self.left_can,))
        chosen = motion.grasp_both({"left": (self.left_can, left_options), "right": (self.right_can, right_options)},
                                   grasp_pre=_GRASP_PRE, lift=_LIFT)
        motion.place_checked("left", self.left_can, chosen["left"], left_options)
        motion.home("left")  # out of the way first: both wrists lean over the box from opposite sides
        motion.place_checked("right", self.right_can, chosen["right"], right_options)
