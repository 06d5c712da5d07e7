"""place_container_plate: put a bowl or a cup onto a plate."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.objects import COLOURS, ShapeBuilder, SimObject, rim_grasp_frames
from eva_bench.staging import put, set_grippers
from eva_bench.task import Ranges, Task, register_task

_WALL = 0.006  # container wall thickness (m)
_BOWLS = ((0.055, 0.045), (0.06, 0.05), (0.065, 0.045), (0.058, 0.055))  # (outer radius, height)
_CUPS = ((0.032, 0.08), (0.035, 0.09), (0.03, 0.085), (0.034, 0.1))
_CONTAINER_COLOURS = ("white", "red", "blue", "green", "yellow", "orange", "pink")


def build_container(scene: sapien.Scene, rng: np.random.Generator, position) -> SimObject:
    """A bowl or a cup (50/50): a disc bottom and a ring wall; optional handle on cups.

    Contact points are top-down rim pinches; functional point 0 is the bottom centre.
    """
    kind = "bowl" if rng.random() < 0.5 else "cup"
    radius, height = (_BOWLS if kind == "bowl" else _CUPS)[int(rng.integers(4))]
    colour = _CONTAINER_COLOURS[int(rng.integers(len(_CONTAINER_COLOURS)))]
    rgb = COLOURS[colour]
    builder = ShapeBuilder(scene, kind, friction=0.8)
    builder.cylinder(radius - _WALL / 2, 0.003, rgb, sapien.Pose([0, 0, 0.003]))
    wall_half = (height - 0.006) / 2
    builder.ring(radius - _WALL / 2, _WALL, wall_half, rgb, z=0.006 + wall_half, segments=20)
    if kind == "cup":
        handle = sapien.Pose([radius + 0.012, 0, height * 0.55])
        builder.box((0.012, 0.004, height * 0.22), rgb, handle)
    entity = builder.build(sapien.Pose(position), mass=0.01)
    # Pinch the wall 1.5 cm below the rim, so the finger tips reach 3 cm down the wall.
    contacts = rim_grasp_frames(radius - _WALL / 2, height - 0.015, 8)
    if kind == "cup":
        contacts = contacts[1:]  # frame 0 faces the handle (+x), where the outer finger would hit it
    return SimObject(entity, kind, contacts, [sapien.Pose()], {"colour": colour, "kind": kind})


def build_plate(scene: sapien.Scene, rng: np.random.Generator, position) -> SimObject:
    """A static flat plate with a low lip; functional point 0 is the top centre of the disc."""
    radius = float(rng.uniform(0.075, 0.09))
    builder = ShapeBuilder(scene, "plate")
    builder.cylinder(radius, 0.004, COLOURS["white"], sapien.Pose([0, 0, 0.004]))
    builder.ring(radius, 0.006, 0.004, COLOURS["silver"], z=0.012, segments=24)
    entity = builder.build(sapien.Pose(position), kind="static")
    return SimObject(entity, "plate", functional_points=[sapien.Pose([0, 0, 0.008])])


@register_task
class PlaceContainerPlate(Task):
    """Put the bowl or cup onto the plate with the arm on its side.

    Randomizations:
        - container: bowl or cup (50/50), 4 sizes each, 7 colours; x ~ U[-0.28, 0.28] with |x| >= 0.2,
          y ~ U[-0.1, 0.05]; no rotation
        - plate: radius U[0.075, 0.09]; x ~ U[s*0.05 - 0.03, s*0.05 + 0.03] where s is the container's side,
          y ~ U[-0.15, -0.1]

    Success conditions:
        - container origin within 0.05 m (x), 0.05 m (y) and 0.03 m (z) of the plate origin, and
        - both grippers commanded open (> 0.8)
    """

    name = "place_container_plate"
    expert_max_steps = 121
    near_misses = ("off_centre", "gripper_closed")
    arms = "single"
    seen_instructions = (
        "place the {colour} {kind} on the plate",
        "put the {colour} {kind} onto the plate",
        "move the {colour} {kind} to the plate",
        "set the {colour} {kind} down on the plate",
        "pick up the {colour} {kind} and place it on the plate",
        "grab the {colour} {kind} and put it on the white plate",
        "lift the {colour} {kind} onto the plate",
        "transfer the {colour} {kind} to the plate",
        "carry the {colour} {kind} over to the plate",
        "use one arm to put the {colour} {kind} on the plate",
        "place the {kind} that is {colour} onto the plate",
        "put the {colour} {kind} on top of the plate",
        "take the {colour} {kind} and set it on the plate",
        "move the {colour} {kind} onto the round plate",
        "get the {colour} {kind} onto the plate",
        "pick the {colour} {kind} up by its rim and place it on the plate",
        "relocate the {colour} {kind} to the plate",
        "place the {colour} {kind} in the middle of the plate",
        "put the {colour} {kind} down onto the plate",
        "bring the {colour} {kind} to the plate and let go",
        "position the {colour} {kind} on the plate",
    )
    unseen_instructions = (
        "rest the {colour} {kind} on the dish",
        "the {colour} {kind} belongs on the plate; put it there",
        "load the plate with the {colour} {kind}",
        "grasp the {colour} {kind} and drop it off on the plate",
        "shift the {colour} {kind} so it sits on the plate",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        x, y = sample_xy(self.rng, (-0.28, 0.28), (-0.1, 0.05), min_abs_x=0.2)
        self.container = build_container(self.env.scene, self.rng, [x, y, z])
        side = np.sign(x)
        px, py = sample_xy(self.rng, (side * 0.05 - 0.03, side * 0.05 + 0.03), (-0.15, -0.1))
        self.plate = build_plate(self.env.scene, self.rng, [px, py, z])
        self.arm = self.side_arm(self.container)

    def randomization_ranges(self) -> Ranges:
        side = float(np.sign(self.container.pose.p[0]))
        return {
            "container": {"abs_x": (0.2, 0.28), "y": (-0.1, 0.05)},
            "plate": {"x": (side * 0.05 - 0.03, side * 0.05 + 0.03), "y": (-0.15, -0.1)},
        }

    def stage(self, case: str) -> None:
        offset = [0.06, 0.0, 0.0] if case == "off_centre" else [0.0, 0.0, 0.0]  # the box is 5 cm wide
        put(self.container, self.plate.functional_world(0).p + offset + [0, 0, 0.002])
        set_grippers(self.env, 1.0, 0.0 if case == "gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        return {"colour": self.container.attributes["colour"], "kind": self.container.attributes["kind"]}

    def check_success(self) -> bool:
        d = np.abs(self.container.pose.p - self.plate.pose.p)
        return bool(d[0] < 0.05 and d[1] < 0.05 and d[2] < 0.03 and self.both_grippers_open())

    def play_expert(self, motion: Motion) -> None:
        onto_plate = Placement.of(
            self.container, self.plate.functional_world(0), 0, pre_dis=0.12, dis=0.03, lift=0.1, supports=(self.plate,)
        )
        motion.grasp(self.arm, self.container, pre_dis=0.1, then=onto_plate)
        motion.place(self.arm, self.container, onto_plate)
        motion.retreat(self.arm, 0.08)
