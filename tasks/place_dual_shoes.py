"""place_dual_shoes: both arms put a pair of shoes side by side into a shoe box."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sapien

from eva_bench.assets.shoes import SHOE_COLOURS, SHOE_MESH_UP, SHOE_MODELS, build_shoe, build_shoe_box
from eva_bench.motion import Motion
from eva_bench.placement import Placement, retreat_pose
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.planner import PlanningError
from eva_bench.sim.poses import yaw_quat
from eva_bench.staging import put, set_gripper
from eva_bench.task import Ranges, Task, register_task

_BOX_XY, _BOX_YAW = (0.0, -0.13), -np.pi / 2  # RoboTwin's shoe box: (0, -0.13), quaternion [0.5, 0.5, -0.5, -0.5]
_BOX_HALF = (0.158, 0.108)  # the box's world footprint (half x, half y) for keeping shoes off it
_TARGETS = {"left": (0.0, -0.17), "right": (0.0, -0.09)}  # where each shoe's origin must end up
_TARGET_Q = np.array([0.5, 0.5, -0.5, -0.5])  # RoboTwin's (mesh-frame) orientation of a shoe in the box
_MESH_UP = sapien.Pose(q=SHOE_MESH_UP)  # our shoe frame -> RoboTwin's y-up mesh frame
_XY_TOL, _Z_TOL, _Q_TOL = 0.05, 0.03, 0.07
_SHOE_X = {"left": (-0.3, -0.2), "right": (0.2, 0.3)}
_SHOE_Y = (-0.1, 0.05)
_LIFT = 0.07  # RoboTwin lifts both shoes 0.15 m after grasping; our wrists reach less high (see the notes)
_GRIPS = ((1,), (0, 1))  # contact points of a shoe to grasp it by, in order of preference
_TURN_SPOTS = {"left": (-0.3, -0.17), "right": (0.3, -0.17)}  # free table spots near each arm for turning a shoe


def _clear_of_box(xy, yaw: float, length: float, width: float, margin: float = 0.03) -> bool:
    """Whether a shoe footprint at `xy`, `yaw` keeps `margin` from the shoe box's footprint."""
    along = np.array([-np.sin(yaw), np.cos(yaw)])  # the shoe's length axis (local y) in the world
    for t in np.linspace(-length / 2, length / 2, 9):
        p = np.asarray(xy) + t * along - _BOX_XY
        gap = np.maximum(np.abs(p) - _BOX_HALF, 0.0)
        if np.hypot(*gap) < width / 2 + margin:
            return False
    return True


@register_task
class PlaceDualShoes(Task):
    """Each arm picks up one shoe of a pair and both shoes go side by side into the shoe box, toes the same way.

    Randomizations:
        - shoe model (5 sizes, both shoes the same) and colour (8); the open shoe box is fixed at (0, -0.13)
        - left shoe x ~ U[-0.3, -0.2], right shoe x ~ U[0.2, 0.3], both y ~ U[-0.1, 0.05], yaw ~ U[-pi, pi];
          poses whose footprint would come within 3 cm of the shoe box are drawn again
        - the table keeps its height (RoboTwin lowers it by 0.1 m for this task; see the notes)

    Success conditions:
        - left shoe origin within |dx|, |dy| < 0.05 m of (0, -0.17), right shoe of (0, -0.09), and
        - both shoes oriented as RoboTwin's target: every component of the (w >= 0) mesh-frame quaternion within
          0.07 of [0.5, 0.5, -0.5, -0.5] (lying on the sole along world x, toes toward +x), and
        - both shoe origins within 0.03 m in z of the box floor (box z + 0.01), and
        - both grippers commanded open (> 0.8)
    """

    name = "place_dual_shoes"
    expert_max_steps = 675
    near_misses = ("left_shifted", "left_turned", "right_reversed", "left_lifted", "left_gripper_closed")
    arms = "dual"
    seen_instructions = (
        "put the two {colour} shoes into the shoe box",
        "place both {colour} shoes in the brown box",
        "use both arms to put the {colour} shoes in the shoe box",
        "pack the pair of {colour} shoes into the box",
        "pick up the {colour} shoes and line them up in the shoe box",
        "move the {colour} shoes into the shoe box side by side",
        "put the {colour} sneakers in the brown shoe box",
        "each arm takes a {colour} shoe and puts it in the box",
        "place the pair of {colour} shoes neatly into the shoe box",
        "store the {colour} shoes in the shoe box",
        "set both {colour} shoes down inside the box, pointing the same way",
        "grab the two {colour} shoes and put them in the open box",
        "put the left {colour} shoe and the right {colour} shoe into the shoe box",
        "arrange the {colour} shoes in the shoe box with the toes to the right",
        "lift the {colour} shoes from the table into the shoe box",
        "tidy the {colour} shoes away into the brown box",
        "with both hands, place the {colour} shoe pair in the box",
        "put the {colour} shoes next to each other in the shoe box",
        "move the two {colour} shoes from the sides of the table into the box",
        "load the {colour} pair of shoes into the shoe box",
        "place one {colour} shoe with each arm into the shoe box",
    )
    unseen_instructions = (
        "box up the {colour} footwear",
        "return the {colour} trainers to their carton, parallel to each other",
        "the {colour} shoes belong in the cardboard box; put them away",
        "drop the {colour} pair into the brown container so they sit side by side",
        "fit both {colour} shoes into their box, heels on the same side",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        self.box = build_shoe_box(self.env.scene, [*_BOX_XY, z], _BOX_YAW)
        model = int(self.rng.integers(len(SHOE_MODELS)))
        colour = SHOE_COLOURS[int(self.rng.integers(len(SHOE_COLOURS)))]
        length, width = SHOE_MODELS[model][:2]
        shoes = {}
        for side in ("left", "right"):
            while True:
                xy = sample_xy(self.rng, _SHOE_X[side], _SHOE_Y)
                yaw = self.rng.uniform(-np.pi, np.pi)
                if _clear_of_box(xy, yaw, length, width) and np.linalg.norm(xy) >= 0.15:
                    break
            shoes[side] = build_shoe(self.env.scene, model, colour, [*xy, z + 0.001], yaw, f"{side}_shoe")
        self.left_shoe, self.right_shoe = shoes["left"], shoes["right"]

    def randomization_ranges(self) -> Ranges:
        return {
            "left_shoe": {"x": _SHOE_X["left"], "y": _SHOE_Y, "yaw": (-np.pi, np.pi)},
            "right_shoe": {"x": _SHOE_X["right"], "y": _SHOE_Y, "yaw": (-np.pi, np.pi)},
        }

    def _shoes(self):
        return (("left", self.left_shoe, 0), ("right", self.right_shoe, 1))

    def stage(self, case: str) -> None:
        for side, shoe, place in self._shoes():
            target = self.box.functional_world(place)
            offset = np.array([0.0, 0.0, 0.001])
            yaw = _BOX_YAW
            if side == "left" and case == "left_shifted":
                offset[0] = 0.055
            if side == "left" and case == "left_lifted":
                offset[2] = 0.035
            if side == "right" and case == "right_reversed":
                yaw += np.pi  # toes the wrong way
            if side == "left" and case == "left_turned":  # 0.3 rad off: quaternion components 0.075 off
                yaw += 0.3
                offset[1] = 0.015  # keeps the turned shoe off the box wall
            put(shoe, target.p + offset, yaw_quat(yaw))
        set_gripper(self.env, "left", 0.0 if case == "left_gripper_closed" else 1.0)
        set_gripper(self.env, "right", 1.0)

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.left_shoe.attributes["colour"]}

    def check_success(self) -> bool:
        floor = self.box.pose.p[2] + 0.01
        for side, shoe, _ in self._shoes():
            pose = shoe.pose
            q = np.asarray((pose * _MESH_UP).q)
            q = -q if q[0] < 0 else q
            if np.any(np.abs(pose.p[:2] - _TARGETS[side]) >= _XY_TOL) or abs(pose.p[2] - floor) >= _Z_TOL:
                return False
            if np.any(np.abs(q - _TARGET_Q) >= _Q_TOL):
                return False
        return self.both_grippers_open()

    def play_expert(self, motion: Motion) -> None:
        places = {
            side: Placement.of(shoe, self.box.functional_world(place), 0, pre_dis=0.07, dis=0.02, align=True,
                               lift=_LIFT, retreat=0.03, retreat_axis="up", supports=(self.box,))
            for side, shoe, place in self._shoes()
        }
        grips = {}
        for side, shoe, _ in self._shoes():  # our wrists turn a shoe only so far in one carry: turn it first
            for ids in _GRIPS:  # preferably so that the toe-box grasp (over the centre of mass) will do
                try:
                    motion.reorient(side, shoe, places[side], spots=[_TURN_SPOTS[side]], contact_ids=ids)
                except PlanningError:
                    if ids is _GRIPS[-1]:
                        raise
                    continue
                grips[side] = ids
                break
        with motion.together():  # both arms grasp at once
            for side, shoe, _ in self._shoes():
                motion.grasp(side, shoe, grips[side], pre_dis=0.1, then=places[side])
        with motion.together():  # both lift at once (the grasps were chosen so the lifts are reachable)
            motion.move_by("left", [0.0, 0.0, _LIFT])
            motion.move_by("right", [0.0, 0.0, _LIFT])
        for side, shoe, _ in self._shoes():
            motion.place(side, shoe, replace(places[side], lift=0.0, retreat=0.0))
            # Back the fingers out along their own axis (rising straight up, a leaning finger would drag the shoe).
            motion.move_to(side, retreat_pose(motion.tcp_pose(side), 0.04, "approach"), line="prefer",
                           ignore=[shoe, self.box])
            if side == "left":  # out of the way before the right shoe comes (RoboTwin does both at once)
                motion.home("left")
