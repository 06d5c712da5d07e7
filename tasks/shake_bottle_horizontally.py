"""shake_bottle_horizontally: pick up the bottle lying on the table, tip it on its side and shake it."""

from __future__ import annotations

from eva_bench.task import Task, register_task

from ._bottle_shaking import SHAKE_ROLL, BottleShaking


@register_task
class ShakeBottleHorizontally(BottleShaking, Task):
    """Pick up the bottle with the arm on its side, tip it horizontal and shake it up and down.

    Randomizations:
        - bottle model (4 sizes, 5-6 cm wide, 13-16 cm long) and colour scheme (9 body/cap/label colourings)
        - lying on the table: x ~ U[-0.15, 0.15] with |x| >= 0.1, y ~ U[-0.15, -0.05], cap direction
          +y turned by U[-pi/4, pi/4] about the vertical

    Success conditions:
        - the bottle's origin (on its axis, mid-length) is more than 1.5 cm above its height when lying at rest
          (RoboTwin: origin z > 0.8 m, 1.5 cm above its 0.785 m spawn height), and
        - (v2, beyond RoboTwin) a gripper holds it: commanded closed (< 0.2) with both fingers touching it
    """

    name = "shake_bottle_horizontally"
    version = 2  # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's")
    horizontal = True
    # RoboTwin: one short stroke (0 / -3 cm), two full ones (+-5 cm), each turning the hand 22.5 deg either way,
    # then back to the orientation of the hold.
    strokes = ((0.0, -SHAKE_ROLL), (-0.03, SHAKE_ROLL)) + ((0.05, -SHAKE_ROLL), (-0.05, SHAKE_ROLL)) * 2 + ((0.0, 0.0),)
    holds = ((0.05, 0.0, 0.16), (0.05, 0.0, 0.19), (0.1, 0.0, 0.16), (0.05, -0.05, 0.19), (0.05, 0.05, 0.16),
             (0.0, 0.05, 0.16))
    expert_max_steps = 192
    seen_instructions = (
        "shake the {colour} bottle horizontally",
        "pick up the {colour} bottle and shake it sideways",
        "lift the {colour} bottle, tip it on its side, and shake it",
        "grab the {colour} bottle and shake it while holding it horizontal",
        "use the {arm} arm to pick up the {colour} bottle and shake it horizontally",
        "shake the {colour} bottle with the {cap} cap while it lies flat in the gripper",
        "hold the {colour} bottle level and shake it",
        "pick the {colour} bottle up, turn it sideways and give it a shake",
        "shake the {colour} bottle in a horizontal position",
        "tilt the {colour} bottle onto its side in the air and shake it",
        "grasp the {colour} bottle on the table and shake it horizontally",
        "with the {arm} gripper, lift the {colour} bottle and shake it lying sideways",
        "raise the {colour} bottle, rotate it horizontal, and shake it up and down",
        "shake the {colour} plastic bottle held horizontally",
        "pick up the {colour} bottle and shake it with its cap pointing sideways",
        "hold the {colour} bottle flat and shake it a few times",
        "turn the {colour} bottle horizontal and shake it",
        "give the {colour} bottle with the {cap} lid a sideways shake",
        "lift the lying {colour} bottle and shake it horizontally in the air",
        "horizontally shake the {colour} drink bottle",
        "pick up and shake the {colour} bottle on its side",
    )
    unseen_instructions = (
        "jiggle the {colour} bottle while keeping it level",
        "agitate the {colour} flask lying crosswise in the hand",
        "rattle the {colour} bottle with the {cap} top after laying it flat in the air",
        "get the {colour} bottle into the {arm} hand, lay it sideways and jostle it",
        "give the {colour} container a few jolts with its long side parallel to the table",
    )
