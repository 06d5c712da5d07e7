"""place_a2b_right: put object A on the right of object B."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.small_objects import build_category, footprint_half_x
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.embodiment import ARMS
from eva_bench.staging import put, set_grippers
from eva_bench.task import Ranges, Task, register_task

#: RoboTwin's 12 categories for A and B (keys of `CATEGORIES`).
_CATEGORIES = ("mouse", "stapler", "bell", "toy_car", "rubiks_cube", "bread", "phone", "playing_cards",
               "wooden_block", "tea_box", "coffee_box", "soap")
_GAP = 0.02  # free space left between A and B when A is set down (m)
_FINGER_HALF = 0.045  # half the open gripper's width across its closing axis (m)
_GRASP_PRE = (0.1, 0.06, 0.04)  # grasp approach distances tried, in order (m)
_PLACE_HEIGHTS = ((0.1, 0.1, 0.02), (0.05, 0.05, 0.02), (0.03, 0.02, 0.01))  # (lift, approach, release) heights (m)
_CARRY_HEIGHT = 0.01  # how far above its start A must be, gripped by both fingers, to count as carried (m)


def _describe(obj) -> str:
    return f"{obj.attributes['colour']} {obj.attributes['kind']}"


@register_task
class PlaceA2BRight(Task):
    """Pick object A and set it down on the right of object B (same row, a hand's width apart).

    Randomizations:
        - A and B: two different categories of the 12 small-object categories, each with its own models and
          colours; yaw ~ U[-pi, pi]; mass 0.05 kg
        - A: x ~ U[-0.22, 0.22], y ~ U[-0.2, 0.0]
        - B: x ~ U[-0.1, 0.1] if A is on the right (x > 0), else U[-0.23, -0.18]; y ~ U[-0.2, 0.0];
          resampled until |AB| >= 0.1 and |dy| >= 0.1; the pair is redrawn (up to 100 times) until |AB| > 0.19
          or A is left of B

    Success conditions:
        - planar distance between the origins (bottom centres) of A and B in (0.08, 0.2) m, and
        - A is to the right of B (x_A > x_B) with |y_A - y_B| < 0.05 m, and
        - both grippers commanded open (> 0.8), and
        - (version 2, beyond RoboTwin's rule) A was carried: at some instant both fingers of one gripper touched
          it with A more than 1 cm above its start height. A box pushed into the spot is not placed (docs/tasks.md).
    """

    name = "place_a2b_right"
    version = 2  # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's")
    expert_max_steps = 111
    near_misses = ("too_far", "too_close", "left_of_b", "off_row", "gripper_closed", "not_carried")
    arms = "single"
    seen_instructions = (
        "place the {a} to the right of the {b}",
        "put the {a} on the right side of the {b}",
        "move the {a} so it sits right of the {b}",
        "pick up the {a} and set it down to the right of the {b}",
        "set the {a} next to the {b}, on its right",
        "grab the {a} and place it on the right of the {b}",
        "put the {a} down just right of the {b}",
        "carry the {a} over to the right side of the {b}",
        "position the {a} to the right of the {b}",
        "move the {a} to the spot right of the {b}",
        "lift the {a} and put it beside the {b} on the right",
        "place the {a} at the right-hand side of the {b}",
        "take the {a} and leave it to the right of the {b}",
        "use one arm to put the {a} right of the {b}",
        "relocate the {a} to the right of the {b}",
        "put the {a} next to the {b} on its right side",
        "place the {a} beside the {b}, to its right",
        "move the {a} until it is on the right of the {b}",
        "set the {a} down on the right of the {b}",
        "pick the {a} up and put it to the right of the {b}",
        "get the {a} to the right side of the {b}",
    )
    unseen_instructions = (
        "the {a} should end up just east of the {b}; move it there",
        "line the {a} up on the right flank of the {b}",
        "drop the {a} off immediately rightward of the {b}",
        "stick the {a} on the {b}'s right",
        "shift the {a} over so the {b} is on its left",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        first = int(self.rng.integers(len(_CATEGORIES)))
        second = int(self.rng.integers(len(_CATEGORIES) - 1))
        self.categories = (_CATEGORIES[first], _CATEGORIES[second + (second >= first)])
        for _ in range(100):
            a = np.array([self.rng.uniform(-0.22, 0.22), self.rng.uniform(-0.2, 0.0)])
            self.b_xlim = (-0.1, 0.1) if a[0] > 0 else (-0.23, -0.18)
            for _ in range(1000):
                b = np.array([self.rng.uniform(*self.b_xlim), self.rng.uniform(-0.2, 0.0)])
                if np.linalg.norm(a - b) >= 0.1 and abs(a[1] - b[1]) >= 0.1:
                    break
            if np.linalg.norm(a - b) > 0.19 or a[0] < b[0]:
                break
        yaws = self.rng.uniform(-np.pi, np.pi, 2)
        self.a = build_category(self.categories[0], self.env.scene, self.rng, [*a, z], yaws[0])
        self.b = build_category(self.categories[1], self.env.scene, self.rng, [*b, z], yaws[1])
        self.arm = self.side_arm(self.a)
        self.start_z = float(self.a.pose.p[2])
        self.carried = False  # latched by check_success, which the env calls after every physics sub-step

    def randomization_ranges(self) -> Ranges:
        return {"a": {"x": (-0.22, 0.22), "y": (-0.2, 0.0)}, "b": {"x": self.b_xlim, "y": (-0.2, 0.0)}}

    def _offset(self, extra: float = 0.0) -> np.ndarray:
        """Where A's origin goes relative to B's: RoboTwin's 0.13 m to the right, or more when the two
        footprints (or the open fingers around A) would overlap."""
        half_a = max(footprint_half_x(self.a), _FINGER_HALF)
        return np.array([max(0.13, half_a + footprint_half_x(self.b) + _GAP) + extra, 0.0, 0.0])

    def stage(self, case: str) -> None:
        offset = self._offset()
        if case == "too_far":
            offset[0] = 0.215
        elif case == "too_close":  # A rests on top of B, 7 cm to its right: the centres are too close
            top = self.b.body.compute_global_aabb_tight()[1][2]
            offset = np.array([0.07, 0.0, top - self.b.pose.p[2] + 0.002])
        elif case == "left_of_b":
            offset[0] = -offset[0]
        elif case == "off_row":
            offset[1] = 0.06
        put(self.a, self.b.pose.p + offset)
        self.carried = case != "not_carried"  # staged as if the arm had carried A there (or pushed it)
        set_grippers(self.env, 1.0, 0.0 if case == "gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        return {"a": _describe(self.a), "b": _describe(self.b)}

    def check_success(self) -> bool:
        if not self.carried and self.a.pose.p[2] > self.start_z + _CARRY_HEIGHT:
            self.carried = any(self.gripping(arm, self.a.entity) for arm in ARMS)
        a, b = self.a.pose.p, self.b.pose.p
        distance = float(np.linalg.norm(a[:2] - b[:2]))
        return bool(self.carried and 0.08 < distance < 0.2 and a[0] > b[0] and abs(a[1] - b[1]) < 0.05
                    and self.both_grippers_open())

    def play_expert(self, motion: Motion) -> None:
        b = self.b.pose.p
        # A keeps its orientation, so its footprint at the target is known now. Fallback spots lie farther right
        # or 3 cm nearer the robot (still well inside the rule), for targets at the edge of the arm's reach.
        spots = [self._offset(extra) + [0, dy, 0] for dy in (0.0, -0.03) for extra in (0.0, 0.02, 0.04)
                 if self._offset(extra)[0] < 0.19]
        # RoboTwin's heights first, lower ones where the wrist cannot reach that high above the table.
        targets = [Placement.of(self.a, sapien.Pose(b + spot), 0, pre_dis=pre, dis=dis, lift=lift)
                   for lift, pre, dis in _PLACE_HEIGHTS for spot in spots]
        motion.pick_and_place(self.arm, self.a, targets, grasp_pre=_GRASP_PRE)
