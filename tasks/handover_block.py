"""handover_block: pass a tall block from the left arm to the right arm and stand it on a pad."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.pad import build_pad
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.objects import COLOURS, ShapeBuilder, SimObject, side_grasp_frames, top_grasp_frames
from eva_bench.sim.poses import quat_yaw, rotation, yaw_quat
from eva_bench.staging import put_functional, set_grippers
from eva_bench.task import Ranges, Task, register_task

_BLOCK_HALF = (0.03, 0.03, 0.1)
_PAD_HALF = (0.05, 0.05, 0.005)
_BASE_YAW = 2 * np.arctan2(0.195, 0.981)  # RoboTwin's base quaternion [0.981, 0, 0, 0.195]
# Where the left arm may hold the block's bottom for the exchange, in order of preference (RoboTwin uses the
# first); the others keep the exchange within our arms' wrist limits for blocks far from the left arm.
_EXCHANGE_YAW = np.pi / 4
_HANDOVER_POINTS = ((0.0, 0.0, 0.9), (0.0, 0.0, 0.85), (-0.05, 0.0, 0.85), (0.0, -0.05, 0.85), (-0.05, 0.05, 0.8))


def build_block(scene: sapien.Scene, position, yaw: float) -> SimObject:
    """The red standing block with side grasps on three rings and top-down grasps of its upper end.

    Contact points: upper ring [0..3] (7 cm above the centre), lower ring [4..7] (5.5 cm below), middle ring
    [8..11], top-down [12, 13] (closing across x or y).

    Functional point 0 is the bottom centre, 1 the top centre.
    """
    hz = _BLOCK_HALF[2]
    entity = ShapeBuilder(scene, "block", friction=0.8).box(_BLOCK_HALF, COLOURS["red"]).build(
        sapien.Pose(position, yaw_quat(yaw)), mass=0.01
    )
    contacts = side_grasp_frames(_BLOCK_HALF, heights=(0.7 * hz, -0.55 * hz, 0.0))
    contacts += top_grasp_frames(_BLOCK_HALF, depth=0.025)
    points = [sapien.Pose([0, 0, -hz]), sapien.Pose([0, 0, hz])]
    return SimObject(entity, "block", contacts, points, {"colour": "red"})


@register_task
class HandoverBlock(Task):
    """The left arm picks the red block and hands it to the right arm, which stands it on the blue pad.

    Randomizations:
        - block (6 x 6 x 20 cm, standing): x ~ U[-0.25, -0.05], y ~ U[0, 0.25], yaw 22.5 deg + U[-0.2, 0.2] rad
        - pad (10 x 10 x 1 cm): x ~ U[0.1, 0.25], y ~ U[0.15, 0.2]

    Success conditions:
        - block bottom centre within |dx|, |dy| < 0.03 m and |dz| < 0.01 m of the pad's top centre, and
        - the right gripper commanded open (> 0.8)
    """

    name = "handover_block"
    expert_max_steps = 250
    near_misses = ("off_pad", "right_gripper_closed")
    arms = "dual"
    seen_instructions = (
        "hand the red block over to the other arm and place it on the blue pad",
        "pass the red block from the left arm to the right arm, then set it on the blue pad",
        "pick up the red block with the left arm, hand it to the right arm, and put it on the blue pad",
        "transfer the red block between the arms and stand it on the blue pad",
        "use both arms to move the red block onto the blue pad with a handover",
        "grab the red block, hand it across, and place it on the blue square",
        "move the tall red block to the blue pad by passing it to the right arm",
        "left arm lifts the red block, right arm takes it and puts it on the blue pad",
        "hand off the red block to the right gripper and set it down on the blue pad",
        "pass the red bar to the right arm and place it upright on the blue pad",
        "lift the red block, exchange it between the grippers, and put it on the blue target",
        "deliver the red block to the blue pad using a handover between the arms",
        "the left arm should give the red block to the right arm, which places it on the blue pad",
        "take the red block with the left hand, pass it to the right hand, and stand it on the blue pad",
        "perform a handover of the red block and finish with it on the blue pad",
        "pick the red block up and hand it to the right arm so it can be put on the blue pad",
        "place the red block on the blue pad after passing it from left to right",
        "pass the long red block across and set it upright on the blue pad",
        "move the red block from the left side to the blue pad on the right with a handover",
        "give the red block to the right arm and have it place the block on the blue pad",
        "hand over the red block, then put it down on the blue pad",
    )
    unseen_instructions = (
        "relay the crimson block from one gripper to the other and park it on the blue mat",
        "swap the red block into the right hand and stand it on the blue tile",
        "let the right arm receive the red block and rest it on the blue pad",
        "exchange the red block between the hands before dropping it off on the blue square",
        "shuttle the red block to the right arm and leave it standing on the blue pad",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        bx, by = sample_xy(self.rng, (-0.25, -0.05), (0.0, 0.25))
        yaw = _BASE_YAW + self.rng.uniform(-0.2, 0.2)
        self.block = build_block(self.env.scene, [bx, by, z + _BLOCK_HALF[2] + 0.002], yaw)
        px, py = sample_xy(self.rng, (0.1, 0.25), (0.15, 0.2), avoid=[np.array([bx, by])], min_dist=0.1)
        self.pad = build_pad(self.env.scene, _PAD_HALF, "blue", [px, py, z + _PAD_HALF[2]])

    def randomization_ranges(self) -> Ranges:
        return {
            "block": {"x": (-0.25, -0.05), "y": (0.0, 0.25), "yaw": (_BASE_YAW - 0.2, _BASE_YAW + 0.2)},
            "pad": {"x": (0.1, 0.25), "y": (0.15, 0.2)},
        }

    def stage(self, case: str) -> None:
        offset = [0.04, 0.0, 0.001] if case == "off_pad" else [0.0, 0.0, 0.001]  # the box is 3 cm wide
        put_functional(self.block, 0, self.pad.functional_world(1).p + offset)
        set_grippers(self.env, 1.0, 0.0 if case == "right_gripper_closed" else 1.0)

    def check_success(self) -> bool:
        d = np.abs(self.block.functional_world(0).p - self.pad.functional_world(1).p)
        return bool(d[0] < 0.03 and d[1] < 0.03 and d[2] < 0.01 and self.env.gripper_open("right"))

    def play_expert(self, motion: Motion) -> None:
        def exchanges(grasp: sapien.Pose) -> list[Placement]:
            # Turn the block on the way so that the left hand's approach points along +45 deg (toward the
            # right arm's side, away from the left base) and a face at +135 deg stays free for the right hand.
            turn = _EXCHANGE_YAW - np.arctan2(rotation(grasp)[1, 0], rotation(grasp)[0, 0])
            yaw = quat_yaw(self.block.pose.q) + turn
            return [
                Placement.of(self.block, sapien.Pose(p, yaw_quat(yaw)), 0, pre_dis=0, dis=0, align=True, lift=0.05,
                             retreat=0.1, retreat_axis="approach")
                for p in _HANDOVER_POINTS
            ]

        to_middle = motion.grasp("left", self.block, contact_ids=(0, 1, 2, 3, 12, 13), pre_dis=0.07, then=exchanges)
        motion.place("left", self.block, to_middle, release=False)
        pad_top = self.pad.functional_world(1)
        onto_pad = Placement.of(self.block, pad_top, 0, pre_dis=0.05, dis=0.0, supports=(self.pad,))
        motion.handover("left", "right", self.block, range(4, 8), pre_dis=0.07, then=onto_pad,
                        giver_placement=to_middle)
        with motion.together():
            motion.home("left")
            motion.place("right", self.block, onto_pad)
