"""handover_mic: pick up a microphone with one arm, hold it up in the middle and hand it to the other arm."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.microphone import HIGH, LOW, build_microphone
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.poses import rotation, turn_onto
from eva_bench.staging import grasp_qpos, put_functional, set_gripper, teleport_arm
from eva_bench.task import Ranges, Task, register_task

_MIN_HEIGHT = 0.18  # RoboTwin's 0.92 m for the tail end, above its 0.74 m table top
# Where the first arm holds the tail end up for the exchange, in order of preference. RoboTwin's (0, -0.05, 0.98)
# puts the receiving grasp at the top edge of the head camera's view and the head above it; ours are 3 cm lower
# (still 3 cm above the success height) and a little nearer the robot, within a Piper wrist's reach.
_EXCHANGE_POINTS = ((0.0, -0.08, 0.95), (0.0, -0.05, 0.95), (0.0, -0.1, 0.95), (0.0, 0.0, 0.95), (0.0, -0.05, 0.98))
_SHIFT = 0.05  # how far the receiving arm carries the microphone outward at the end (RoboTwin's)


@register_task
class HandoverMic(Task):
    """One arm picks up the microphone and holds it up in the middle; the other arm takes it over.

    Randomizations:
        - microphone model (3 sizes) and handle colour (5 of 6 per model); lying along y, tail toward the robot
        - x ~ U[-0.2, 0.2] with |x| >= 0.15, y ~ U[-0.05, 0.0]; no rotation
        - the arm on the microphone's side picks it up, the other arm receives it

    Success conditions:
        - a gripper touches the microphone, and
        - the receiving arm's gripper is commanded closed (< 0.2) and the picking arm's open (> 0.8), and
        - the microphone's tail end is higher than 0.18 m above the table (RoboTwin's 0.92 m), and
        - the tail end is on the receiving arm's side (x < 0 for the left arm, x > 0 for the right)
    """

    name = "handover_mic"
    expert_max_steps = 161
    near_misses = ("too_low", "giver_still_closed", "receiver_open", "wrong_side", "not_touching")
    arms = "dual"
    seen_instructions = (
        "hand the {colour} microphone over to the other arm",
        "pick up the {colour} microphone with the {giver} arm and pass it to the {receiver} arm",
        "grab the {colour} microphone and give it to the other hand",
        "use the {giver} arm to lift the {colour} microphone, then let the {receiver} arm take it",
        "pass the {colour} microphone from one gripper to the other",
        "pick up the {colour} mic and hand it across to the {receiver} arm",
        "lift the {colour} microphone and transfer it to the other arm",
        "take the {colour} microphone with the {giver} hand and give it to the {receiver} hand",
        "the {giver} arm picks up the {colour} microphone and the {receiver} arm receives it",
        "hold the {colour} microphone up in the middle and hand it over",
        "pick the {colour} microphone off the table and pass it between the arms",
        "grab the {colour} mic, raise it, and give it to the other arm",
        "transfer the {colour} microphone from the {giver} arm to the {receiver} arm",
        "hand over the {colour} microphone lying on the table",
        "pick up the {colour} microphone and let the other gripper take hold of it",
        "give the {colour} microphone to the {receiver} arm after picking it up with the {giver} arm",
        "move the {colour} microphone into the {receiver} gripper with a handover",
        "lift the {colour} microphone by its handle and pass it to the other hand",
        "exchange the {colour} microphone between the two arms",
        "use both arms to hand the {colour} microphone from {giver} to {receiver}",
        "pick up the {colour} mic on the table and hand it to the {receiver} side",
    )
    unseen_instructions = (
        "relay the {colour} mic so that the {receiver} hand ends up holding it",
        "get the {colour} microphone into the other gripper by way of a mid-air exchange",
        "raise the {colour} handheld mic and have the opposite arm grab it from you",
        "the {receiver} arm should end up with the {colour} microphone; fetch it with the {giver} arm first",
        "swap the {colour} microphone from the {giver} grip to the {receiver} grip",
    )

    def load(self) -> None:
        x, y = sample_xy(self.rng, (-0.2, 0.2), (-0.05, 0.0), min_abs_x=0.15)
        self.microphone = build_microphone(self.env.scene, self.rng, (x, y), self.env.embodiment.table_height)
        self.giver = self.side_arm(self.microphone)
        self.receiver = "left" if self.giver == "right" else "right"

    def randomization_ranges(self) -> Ranges:
        return {"microphone": {"x": (-0.2, 0.2), "abs_x": (0.15, 0.2), "y": (-0.05, 0.0), "yaw": (0.0, 0.0)}}

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.microphone.attributes["colour"], "giver": self.giver, "receiver": self.receiver}

    def check_success(self) -> bool:
        tail = self.microphone.functional_world(0).p
        if not self.env.contacts(self.microphone.entity, self.env.gripper_entities()):
            return False
        on_side = tail[0] < 0 if self.receiver == "left" else tail[0] > 0
        high = tail[2] > self.env.embodiment.table_height + _MIN_HEIGHT
        return bool(self.env.gripper_closed(self.receiver) and self.env.gripper_open(self.giver) and high and on_side)

    def stage(self, case: str) -> None:
        """The receiving hand holds the upright microphone (its tail 2 cm above the threshold, 5 cm on its side)."""
        side = -1.0 if self.receiver == "left" else 1.0
        tail = np.array([side * _SHIFT, -0.05, self.env.embodiment.table_height + _MIN_HEIGHT + 0.02])
        if case == "too_low":
            tail[2] -= 0.04
        if case == "wrong_side":
            tail[0] = -side * 0.02
        up = sapien.Pose(q=[np.sqrt(0.5), np.sqrt(0.5), 0.0, 0.0])  # the lying microphone's +y axis turned up
        put_functional(self.microphone, 0, tail, up.q)
        # The receiver grasps the high ring reaching forward and inward (toward +y and the other arm's side).
        inward = np.array([-side, 1.0, 0.0]) / np.sqrt(2)
        grasp = max((self.microphone.contact_world(i) for i in HIGH), key=lambda f: rotation(f)[:, 0] @ inward)
        if case == "not_touching":
            grasp = sapien.Pose(grasp.p - 0.06 * rotation(grasp)[:, 0], grasp.q)
        teleport_arm(self.env, self.receiver, grasp_qpos(self.env, self.receiver, grasp), 0.0)
        if case == "receiver_open":  # the fingers still touch, but the command no longer reads "closed"
            set_gripper(self.env, self.receiver, 0.3)
        teleport_arm(self.env, self.giver, self.env.arm_qpos(self.giver),
                     0.0 if case == "giver_still_closed" else 1.0)

    def _exchanges(self, grasp: sapien.Pose) -> list[Placement]:
        """Hold the microphone upright, head up, with the picking hand pointing forward and inward (RoboTwin's
        "front_right" for the left arm, "front_left" for the right arm), its tail end at an exchange point."""
        inward = np.array([1.0 if self.giver == "left" else -1.0, 1.0, 0.0])
        pose = self.microphone.pose
        approach = rotation(pose).T @ rotation(grasp)[:, 0]  # the grasp's approach in the microphone's frame
        turn = turn_onto([0.0, 1.0, 0.0], approach, [0.0, 0.0, 1.0], inward)
        orientation = sapien.Pose(np.block([[turn, np.zeros((3, 1))], [np.zeros((1, 3)), 1.0]])).q
        return [
            Placement.of(self.microphone, sapien.Pose(p, orientation), 0, pre_dis=0.0, dis=0.0, align=True,
                         lift=0.03, retreat=0.07)
            for p in _EXCHANGE_POINTS
        ]

    def play_expert(self, motion: Motion) -> None:
        hold = motion.grasp(self.giver, self.microphone, LOW, pre_dis=0.1, grasp_dis=0.008, then=self._exchanges)
        motion.place(self.giver, self.microphone, hold, release=False)
        motion.grasp(self.receiver, self.microphone, HIGH, pre_dis=0.1)
        motion.release(self.giver)
        with motion.together():
            motion.retreat(self.giver, hold.retreat)
            motion.move_by(self.receiver, [(-_SHIFT if self.receiver == "left" else _SHIFT), 0.0, 0.0])
