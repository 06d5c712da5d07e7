"""Rocker switches (RoboTwin's articulated `056_switch`): an upright panel on a stand with a rocker on its face."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.sim.articulated import ArticulatedBuilder, ArticulatedObject
from eva_bench.sim.objects import COLOURS
from eva_bench.sim.poses import frame

# (panel width, panel height, rocker width, rocker height, hinge limit in rad) of the switch models, in metres.
# Paddle rockers (v3 of turn_switch; a Decora paddle is 6.7 cm on an 11.4 cm plate): the 2.4 cm finger pad fits on
# the upper half with room to spare, where the 4.8-5.6 cm rockers of v2 left it 0.1-0.3 cm, so a push 1 cm low
# covered the hinge and stalled the rocker flat (docs/tasks/turn_switch.md).
SWITCH_MODELS = (
    (0.08, 0.12, 0.036, 0.070, 0.30),
    (0.09, 0.12, 0.050, 0.078, 0.28),
    (0.07, 0.11, 0.032, 0.067, 0.32),
    (0.10, 0.13, 0.060, 0.078, 0.26),
)
PANEL_COLOURS = ("white", "gray", "black", "yellow", "blue")
ROCKER_COLOURS = ("red", "orange", "green", "black", "white")
_PANEL_HALF_T = 0.0125  # half thickness of the panel (m)
_ROCKER_HALF_T = 0.007  # half thickness of the rocker (m)
_HINGE_OUT = 0.016  # the rocker's hinge sits this far in front of the panel face (room to rock)
_PUSH_HEIGHT = 0.4  # push point above the hinge, in rocker heights: the pad's lower edge clears the hinge by 1.5-1.9 cm


def build_switch(
    scene: sapien.Scene, rng: np.random.Generator, pose: sapien.Pose, table_height: float
) -> ArticulatedObject:
    """A fixed switch whose panel centre is at `pose`; a stand reaches down to the table at `table_height`.

    Local frame: the panel faces -x (RoboTwin's face direction is -x of the object), +z up. The rocker turns
    about +y through a hinge in front of the panel centre: at the lower limit its upper half sticks out toward
    the viewer ("off"); pushing the upper half in turns it to the upper limit ("on").

    Contact points (on link "rocker"): the face of the rocker's upper half, approach into the panel (+x);
    0 with the fingers closing horizontally, 1 closing vertically. Functional point 0 is the rocker's face centre.
    """
    width, height, rocker_w, rocker_h, limit = SWITCH_MODELS[int(rng.integers(len(SWITCH_MODELS)))]
    panel_colour = PANEL_COLOURS[int(rng.integers(len(PANEL_COLOURS)))]
    rocker_colour = ROCKER_COLOURS[int(rng.integers(len(ROCKER_COLOURS)))]
    if rocker_colour == panel_colour:
        rocker_colour = "red"
    builder = ArticulatedBuilder(scene, "switch")
    base = builder.root("panel")
    base.box((_PANEL_HALF_T, width / 2, height / 2), COLOURS[panel_colour])
    drop = float(pose.p[2]) - table_height  # from the panel centre down to the table
    stand = drop - height / 2
    if stand > 0.002:
        base.box((0.008, width / 4, stand / 2), COLOURS["gray"], sapien.Pose([0, 0, -height / 2 - stand / 2]))
    base.box((0.04, width / 2, 0.004), COLOURS["gray"], sapien.Pose([0.01, 0, -drop + 0.004]))  # foot
    plinth = (_HINGE_OUT / 2, rocker_w / 2 - 0.003, rocker_h / 2 - 0.008)
    base.box(plinth, COLOURS["gray"], sapien.Pose([-_PANEL_HALF_T - _HINGE_OUT / 2, 0, 0]), collision=False)
    hinge = sapien.Pose([-_PANEL_HALF_T - _HINGE_OUT, 0, 0])
    rocker = builder.revolute("rocker", base, hinge, axis=[0, 1, 0], limits=(-limit, limit), friction=0.1,
                              damping=0.05)
    rocker.box((_ROCKER_HALF_T, rocker_w / 2, rocker_h / 2), COLOURS[rocker_colour])
    switch = builder.build(pose, masses=0.01)
    switch.set_qpos([-limit])
    push = np.array([-_ROCKER_HALF_T, 0.0, _PUSH_HEIGHT * rocker_h])
    switch.contact_points = [("rocker", frame([1, 0, 0], [0, 1, 0], push)),
                             ("rocker", frame([1, 0, 0], [0, 0, 1], push))]
    switch.functional_points = [("rocker", sapien.Pose([-_ROCKER_HALF_T, 0, 0]))]
    switch.attributes = {"colour": panel_colour, "rocker": rocker_colour}
    return switch
