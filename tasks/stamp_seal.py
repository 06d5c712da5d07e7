"""stamp_seal: set the seal down on the coloured target square, as if stamping it."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.pad import build_pad
from eva_bench.assets.seal import build_seal
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.staging import put, set_grippers
from eva_bench.task import Ranges, Task, register_task

_TARGET_HALF = (0.035, 0.035, 0.0005)
_EPS = 0.01
#: RoboTwin's 23 named target colours (our COLOURS names; its "Gray" is gray, "Silver" silver).
TARGET_COLOURS = ("red", "green", "blue", "yellow", "cyan", "magenta", "black", "gray", "orange", "purple", "brown",
                  "pink", "lime", "olive", "teal", "maroon", "navy", "coral", "turquoise", "indigo", "beige", "tan",
                  "silver")


@register_task
class StampSeal(Task):
    """Pick up the seal with the arm on its side and press it down on the coloured target square.

    Randomizations:
        - seal: 5 models (square or round block 3.6-5 cm wide, 7.3-8 cm tall), 6 colour schemes;
          x ~ U[-0.25, 0.25] with |x| >= 0.05, y ~ U[-0.05, 0.05]; upright, no rotation
        - target (visual-only 7 x 7 cm square): one of 23 colours; x ~ U[0.05, 0.25] on the seal's side (mirrored
          for x < 0), y ~ U[-0.05, 0.05] on the first draw and U[-0.05, 0.1] on redraws (RoboTwin's quirk),
          redrawn until at least 0.1 m from the seal in xy; no rotation

    Success conditions:
        - seal origin (centre of its stamping face) within |dx|, |dy| < 0.01 m of the target origin, and
        - both grippers commanded open (> 0.8)
    """

    name = "stamp_seal"
    expert_max_steps = 129
    near_misses = ("off_x", "off_y", "gripper_closed")
    arms = "single"
    seen_instructions = (
        "stamp the seal on the {target} square",
        "press the {colour} seal onto the {target} target",
        "pick up the {colour} stamp and set it on the {target} square",
        "put the {colour} seal down on the {target} mark",
        "use the {colour} seal to stamp the {target} area",
        "move the {colour} seal onto the {target} square",
        "place the {shape} {colour} stamp on the {target} target",
        "grab the seal by its {handle} handle and stamp the {target} square",
        "lift the {colour} seal and press it on the {target} patch",
        "stamp the {target} square with the {colour} stamp",
        "carry the {colour} seal over to the {target} square and set it down",
        "use one arm to stamp the {target} square with the seal",
        "bring the {shape} seal to the {target} square and put it down",
        "set the {colour} seal right on the {target} target",
        "place the seal with the {handle} knob on the {target} square",
        "pick the {colour} stamp up and press it onto the {target} spot",
        "stamp the {colour} seal in the middle of the {target} square",
        "take the {shape} {colour} seal and stamp it on the {target} square",
        "move the stamp onto the {target} target and let go",
        "put the {colour} stamp exactly on the {target} square",
        "position the {colour} seal over the {target} square and stamp",
    )
    unseen_instructions = (
        "leave an imprint of the {colour} seal on the {target} tile",
        "the {target} square needs stamping: use the {colour} seal",
        "press the {shape} rubber stamp down onto the {target} marking",
        "relocate the {colour} stamper so it covers the {target} square",
        "seal the {target} spot with the stamp that has a {handle} handle",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        x, y = sample_xy(self.rng, (-0.25, 0.25), (-0.05, 0.05), min_abs_x=0.05)
        self.seal = build_seal(self.env.scene, self.rng, sapien.Pose([x, y, z]))
        self.side = float(np.sign(x))
        xlim = (0.05, 0.25) if self.side > 0 else (-0.25, -0.05)
        txy = np.array([self.rng.uniform(*xlim), self.rng.uniform(-0.05, 0.05)])
        while np.linalg.norm(txy - [x, y]) < 0.1:  # RoboTwin redraws with a wider y range
            txy = np.array([self.rng.uniform(*xlim), self.rng.uniform(-0.05, 0.1)])
        colour = TARGET_COLOURS[int(self.rng.integers(len(TARGET_COLOURS)))]
        self.target = build_pad(self.env.scene, _TARGET_HALF, colour, [*txy, z + _TARGET_HALF[2]], collision=False)
        self.arm = self.side_arm(self.seal)

    def randomization_ranges(self) -> Ranges:
        xlim = (0.05, 0.25) if self.side > 0 else (-0.25, -0.05)
        return {
            "seal": {"x": (-0.25, 0.25), "abs_x": (0.05, 0.25), "y": (-0.05, 0.05), "yaw": (0.0, 0.0)},
            "target": {"x": xlim, "y": (-0.05, 0.1), "yaw": (0.0, 0.0)},
        }

    def stage(self, case: str) -> None:
        offset = {"off_x": [0.012, 0, 0], "off_y": [0, -0.012, 0]}.get(case, [0, 0, 0])
        put(self.seal, self.target.pose.p + [0, 0, -_TARGET_HALF[2]] + offset)
        set_grippers(self.env, 1.0, 0.0 if case == "gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        attributes = self.seal.attributes
        return {"colour": attributes["colour"], "handle": attributes["handle"], "shape": attributes["shape"],
                "target": self.target.attributes["colour"]}

    def check_success(self) -> bool:
        d = np.abs(self.seal.pose.p[:2] - self.target.pose.p[:2])
        return bool(d[0] < _EPS and d[1] < _EPS and self.both_grippers_open())

    def play_expert(self, motion: Motion) -> None:
        # The seal's face goes onto the table under the target's centre; released 5 mm up, straight down.
        spot = self.target.pose.p - [0.0, 0.0, _TARGET_HALF[2]]
        stamp = Placement.of(self.seal, sapien.Pose(spot), 0, pre_dis=0.06, dis=0.005, lift=0.05, retreat=0.05,
                             retreat_axis="up")
        motion.grasp(self.arm, self.seal, contact_ids=[4, 5, 6, 7], pre_dis=0.1, then=stamp)
        motion.place(self.arm, self.seal, stamp)
