"""shake_bottle: pick up the bottle lying on the table and shake it, held upright."""

from __future__ import annotations

from eva_bench.task import Task, register_task

from ._bottle_shaking import SHAKE_ROLL, BottleShaking


@register_task
class ShakeBottle(BottleShaking, Task):
    """Pick up the bottle with the arm on its side, hold it upright and shake it up and down.

    Randomizations:
        - bottle model (4 sizes, 5-6 cm wide, 13-16 cm long) and colour scheme (9 body/cap/label colourings)
        - lying on the table: x ~ U[-0.15, 0.15] with |x| >= 0.1, y ~ U[-0.15, -0.05], cap direction
          +y turned by U[-pi/4, pi/4] about the vertical

    Success conditions:
        - the bottle's origin (on its axis, mid-length) is more than 1.5 cm above its height when lying at rest
          (RoboTwin: origin z > 0.8 m, 1.5 cm above its 0.785 m spawn height), and
        - (v2, beyond RoboTwin) a gripper holds it: commanded closed (< 0.2) with both fingers touching it
    """

    name = "shake_bottle"
    version = 2  # v2: success rule tightened toward its intent (docs/tasks.md, "Rules beyond RoboTwin's")
    # RoboTwin: three times up 5 cm turning the hand one way, down 5 cm turning it the other, then straighten it.
    strokes = ((0.05, -SHAKE_ROLL), (-0.05, SHAKE_ROLL)) * 3 + ((0.0, 0.0),)
    holds = ((0.0, -0.05, 0.16), (0.05, -0.05, 0.16), (0.0, 0.0, 0.13), (0.05, 0.0, 0.13), (0.0, 0.0, 0.16),
             (0.05, 0.05, 0.13))
    expert_max_steps = 196
    seen_instructions = (
        "shake the {colour} bottle",
        "pick up the {colour} bottle and shake it",
        "grab the {colour} bottle and give it a shake",
        "lift the {colour} bottle and shake it up and down",
        "use the {arm} arm to pick up the {colour} bottle and shake it",
        "shake the {colour} bottle with the {cap} cap",
        "hold the {colour} bottle upright and shake it",
        "pick the {colour} bottle up off the table and shake it a few times",
        "take the {colour} bottle and shake it vigorously",
        "raise the {colour} bottle and shake its contents",
        "grasp the {colour} bottle lying on the table and shake it",
        "shake the {colour} plastic bottle using one arm",
        "lift up the {colour} bottle, turn it upright, and shake it",
        "give the {colour} bottle with the {cap} lid a good shake",
        "with the {arm} gripper, pick up the {colour} bottle and shake it",
        "pick up the lying {colour} bottle and shake it",
        "shake the {colour} drink bottle",
        "grab the {colour} bottle by its body and shake it",
        "lift the {colour} bottle from the table and shake it several times",
        "pick up and shake the {colour} bottle",
        "shake up the {colour} bottle on the table",
    )
    unseen_instructions = (
        "mix whatever is inside the {colour} bottle by jiggling it",
        "agitate the {colour} bottle after lifting it off the table",
        "jostle the {colour} flask with the {cap} top up and down a few times",
        "get the {colour} bottle into the {arm} hand and rattle it",
        "give the {colour} container a couple of quick jolts in the air",
    )
