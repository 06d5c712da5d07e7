"""What shake_bottle and shake_bottle_horizontally share: the lying bottle, its randomization, the success rule
(lift it off the table), staging, and the expert (pick it up, hold it in front of the arm, shake it).

RoboTwin's two tasks differ only in how the bottle is held (upright, or tipped on its side) and shaken: a task
class derives from `BottleShaking` and `Task` (in that order) and gives its name, instructions, `horizontal`,
`strokes` and `holds`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import numpy as np
import sapien

from eva_bench.assets.bottle import build_bottle
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.embodiment import ARMS
from eva_bench.sim.env import BimanualEnv
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.poses import rotation, turn_onto
from eva_bench.staging import put, teleport_hold
from eva_bench.task import Ranges

#: The success margin: RoboTwin's threshold (0.8 m) is 1.5 cm above its spawn height (0.785 m); ours is 1.5 cm
#: above the height of our bottle's origin when it lies at rest.
LIFT = 0.015
#: The roll (rad) of one shaking stroke about the gripper's approach axis: RoboTwin's +-7/8 pi about y,
#: composed with its gripper-frame remapping, turns the hand by 22.5 deg either way.
SHAKE_ROLL = np.pi / 8


class BottleShaking:
    """The shared part of the bottle-shaking tasks, a mixin for `Task` (not a task itself)."""

    env: BimanualEnv
    rng: np.random.Generator
    #: Whether the bottle is shaken lying across the hand (horizontally) rather than standing upright in it.
    horizontal: ClassVar[bool] = False
    #: The expert's shaking strokes once it holds the bottle: (rise in m, roll in rad about the approach axis
    #: relative to the hold), see `Motion.shake`.
    strokes: ClassVar[tuple[tuple[float, float], ...]]
    #: Where the hand holds the bottle for shaking, in order of preference: (shift toward the middle from the
    #: bottle's x, y, height above the table) of the TCP, in m. RoboTwin lifts the bottle 0.1 m where it lay;
    #: a Piper wrist pointing forward has room to shake it only a little further from its base, and the head
    #: camera must still see it.
    holds: ClassVar[tuple[tuple[float, float, float], ...]]

    arms = "single"
    near_misses = ("barely_lifted", "slid_on_table", "fingers_open")

    def load(self) -> None:
        x, y = sample_xy(self.rng, (-0.15, 0.15), (-0.15, -0.05), min_abs_x=0.1)
        yaw = self.rng.uniform(-np.pi / 4, np.pi / 4)
        self.bottle = build_bottle(self.env.scene, self.rng, (x, y), yaw, self.env.embodiment.table_height)
        self.rest_height = float(self.bottle.pose.p[2])  # the origin's height while the bottle lies at rest
        self.arm = self.side_arm(self.bottle)

    def randomization_ranges(self) -> Ranges:
        return {"bottle": {"x": (-0.15, 0.15), "abs_x": (0.1, 0.15), "y": (-0.15, -0.05),
                           "yaw": (-np.pi / 4, np.pi / 4)}}

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.bottle.attributes["colour"], "cap": self.bottle.attributes["cap"], "arm": self.arm}

    def check_success(self) -> bool:
        # RoboTwin checks the height only; a bottle struck by a flailing hand bounces that high, so it must also be
        # held (the intent: pick it up and shake it).
        raised = self.bottle.pose.p[2] > self.rest_height + LIFT
        return bool(raised and any(self.holding(arm, self.bottle.entity) for arm in ARMS))

    def stage(self, case: str) -> None:
        """Hold the lying bottle raised 2 cm (success), only 1 cm, with open fingers, or held slid 5 cm on the table."""
        p = self.bottle.pose.p
        if case == "slid_on_table":
            put(self.bottle, p + [-np.sign(p[0]) * 0.05, 0.0, 0.0])  # toward the middle: the hand still reaches it
        else:
            put(self.bottle, p + [0.0, 0.0, 0.01 if case == "barely_lifted" else 0.02])
        bottle = self.bottle.pose
        axis = rotation(bottle)[:, 1]  # the bottle lies along its local y
        radius = self.rest_height - self.env.embodiment.table_height  # the lying bottle rests on its label ring
        across = np.cross(axis, [0.0, 0.0, 1.0])
        teleport_hold(self.env, self.arm, bottle.p, across, radius, closed=case != "fingers_open")

    def _holds(self, grasp: sapien.Pose) -> list[Placement]:
        """The hold placements for a grasp at `grasp`: the hand pointing forward (RoboTwin's [0.707, 0, 0, 0.707])
        or else forward and inward; the bottle upright (cap up) or, for a horizontal shake, lying across the
        hand (cap toward the middle, else away from it); at each of `holds`."""
        inward = 1.0 if self.arm == "left" else -1.0
        pose = self.bottle.pose
        in_bottle = pose.inv() * grasp  # the grasp in the bottle's frame
        approach = rotation(in_bottle)[:, 0]
        placements = []
        for direction in (np.array([0.0, 1.0, 0.0]), np.array([inward, 1.0, 0.0]) / np.sqrt(2)):
            across = np.cross(direction, [0.0, 0.0, 1.0]) * inward  # horizontal, toward the middle
            for cap in ([across, -across] if self.horizontal else [np.array([0.0, 0.0, 1.0])]):
                turn = turn_onto([0.0, 1.0, 0.0], approach, cap, direction)
                orientation = sapien.Pose(np.block([[turn, np.zeros((3, 1))], [np.zeros((1, 3)), 1.0]])).q
                for dx, y, height in self.holds:
                    tcp = np.array([pose.p[0] + inward * dx, y, self.env.embodiment.table_height + height])
                    target = sapien.Pose(tcp - turn @ in_bottle.p, orientation)  # the origin, for the TCP at `tcp`
                    placements.append(Placement.of(self.bottle, target, pre_dis=0.0, dis=0.0, align=True, lift=0.01))
        # Last resort for grasps at the edge of the wrist's reach: no straight lift off the table first.
        return placements + [replace(placement, lift=0.0) for placement in placements]

    def play_expert(self, motion: Motion) -> None:
        hold = motion.grasp(self.arm, self.bottle, pre_dis=0.07, then=self._holds)
        # Closing the fingers may roll the bottle a little: re-check the hold for the bottle as it is held now.
        hold = motion.reachable_placement(self.arm, self.bottle, self._holds) or hold
        motion.place(self.arm, self.bottle, hold, release=False)
        motion.shake(self.arm, self.strokes)
