"""move_pillbottle_pad: move the pill bottle onto the blue pad and stand it there."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.pad import build_pad
from eva_bench.assets.pillbottle import build_pillbottle
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.staging import put, set_grippers
from eva_bench.task import Ranges, Task, register_task

_PAD_HALF = (0.04, 0.04, 0.0005)
_EPS_XY, _EPS_Z = 0.03, 0.005


@register_task
class MovePillbottlePad(Task):
    """Pick up the pill bottle with the arm on its side and stand it on the blue pad.

    Randomizations:
        - pill bottle: 5 models (3.8-5.2 cm wide, 7-10.5 cm tall), 7 colour schemes; x ~ U[-0.25, 0.25] with
          |x| >= 0.05, y ~ U[-0.1, 0.1]; upright, no rotation
        - blue pad (8 x 8 cm): x ~ U[0.05, 0.25] on the bottle's side (mirrored for x < 0), y ~ U[-0.2, 0.1],
          at least 0.1 m from the bottle in xy; no rotation

    Success conditions:
        - bottle origin (bottom centre) within |dx|, |dy| < 0.03 m of the pad origin, and
        - bottle origin within 0.005 m of the table-top height (standing upright, set down), and
        - both grippers commanded open (> 0.8)
    """

    name = "move_pillbottle_pad"
    expert_max_steps = 127
    near_misses = ("off_x", "off_y", "lying", "held_above", "gripper_closed")
    arms = "single"
    seen_instructions = (
        "move the {colour} pill bottle onto the blue pad",
        "place the {colour} pill bottle on the blue pad",
        "put the pill bottle with the {cap} cap on the blue pad",
        "pick up the {colour} pill bottle and set it on the blue square",
        "stand the {colour} pill bottle on the blue pad",
        "grab the {colour} medicine bottle and put it on the blue pad",
        "transfer the {colour} pill bottle to the blue pad",
        "carry the {colour} pill bottle over to the blue pad",
        "use one arm to move the {colour} pill bottle onto the blue pad",
        "lift the pill bottle with the {cap} lid and place it on the blue pad",
        "set the {colour} pill bottle down upright on the blue pad",
        "relocate the {colour} pill bottle to the blue mat",
        "take the {colour} pill bottle and put it on the blue pad",
        "place the {colour} bottle of pills on the blue pad",
        "move the small {colour} bottle onto the blue square pad",
        "get the {colour} pill bottle onto the blue pad",
        "pick the {colour} pill bottle up and stand it on the blue pad",
        "put the {colour} pill container on the blue pad",
        "bring the {colour} pill bottle to the blue pad and let go",
        "position the {colour} pill bottle on top of the blue pad",
        "move the pill bottle capped in {cap} to the blue pad",
    )
    unseen_instructions = (
        "the {colour} pill bottle should end up standing on the blue pad",
        "shift the medicine container with the {cap} cap onto the blue mat",
        "deposit the {colour} pill jar on the blue coaster",
        "relocate the {colour} vial of pills so it stands on the blue square",
        "set the {colour} tablet bottle upright on the blue pad",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        x, y = sample_xy(self.rng, (-0.25, 0.25), (-0.1, 0.1), min_abs_x=0.05)
        self.bottle = build_pillbottle(self.env.scene, self.rng, sapien.Pose([x, y, z]))
        self.side = float(np.sign(x))
        xlim = (0.05, 0.25) if self.side > 0 else (-0.25, -0.05)
        pxy = sample_xy(self.rng, xlim, (-0.2, 0.1), avoid=[np.array([x, y])], min_dist=0.1)
        self.pad = build_pad(self.env.scene, _PAD_HALF, "blue", [*pxy, z + _PAD_HALF[2]])
        self.arm = self.side_arm(self.bottle)

    def randomization_ranges(self) -> Ranges:
        xlim = (0.05, 0.25) if self.side > 0 else (-0.25, -0.05)
        return {
            "bottle": {"x": (-0.25, 0.25), "abs_x": (0.05, 0.25), "y": (-0.1, 0.1), "yaw": (0.0, 0.0)},
            "pad": {"x": xlim, "y": (-0.2, 0.1), "yaw": (0.0, 0.0)},
        }

    def stage(self, case: str) -> None:
        top = self.pad.functional_world(1).p
        offset = {"off_x": [0.032, 0, 0], "off_y": [0, -0.032, 0], "held_above": [0, 0, 0.008]}.get(case, [0, 0, 0])
        if case == "lying":  # fallen over on the pad: its axis lies 2.8 cm up (the widest cap's radius)
            put(self.bottle, top + [0.0, 0.0, 0.028], [np.sqrt(0.5), np.sqrt(0.5), 0.0, 0.0])
        else:
            put(self.bottle, top + offset)
        set_grippers(self.env, 1.0, 0.0 if case == "gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.bottle.attributes["colour"], "cap": self.bottle.attributes["cap"]}

    def check_success(self) -> bool:
        p, pad = self.bottle.pose.p, self.pad.pose.p
        table = self.env.embodiment.table_height
        return bool(
            abs(p[0] - pad[0]) < _EPS_XY and abs(p[1] - pad[1]) < _EPS_XY and abs(p[2] - table) < _EPS_Z
            and self.both_grippers_open()
        )

    def play_expert(self, motion: Motion) -> None:
        onto_pad = Placement.of(self.bottle, self.pad.functional_world(1), 0, pre_dis=0.05, dis=0.0, lift=0.05,
                                retreat=0.05, supports=(self.pad,))
        motion.grasp(self.arm, self.bottle, pre_dis=0.06, then=onto_pad)
        motion.place(self.arm, self.bottle, onto_pad)
