"""place_object_basket: one arm puts a toy into the basket, the other lifts the basket by its handle."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.basket import build_basket
from eva_bench.assets.small_objects import build_category
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.poses import rotation, yaw_quat
from eva_bench.staging import put_functional
from eva_bench.task import Ranges, Task, register_task

_CATEGORIES = ("playing_cards", "toy_car")
_BASE_YAW = -np.pi / 2  # RoboTwin's base quaternion ~[0.707, 0.707, 0, 0]: the long side points at the robot
_GRASP_PRE = (0.1, 0.06, 0.04)  # grasp approach distances tried, in order (m)
# (lift, approach, release) heights of the drop into the basket, RoboTwin's first; the approach keeps the
# object's bottom above the basket's rim.
_PLACE_HEIGHTS = ((0.15, 0.1, 0.02), (0.08, 0.07, 0.02), (0.05, 0.06, 0.02))
_LIFT, _OUTWARD = 0.05, 0.05  # how far the other arm raises the basket and then moves it outward (m)


@register_task
class PlaceObjectBasket(Task):
    """One arm puts the toy car or the deck of cards into the basket; the other arm then lifts the basket.

    Randomizations:
        - the arm that places the object: left or right (50/50)
        - basket: 2 models, 3 colours; x = +0.02 for the left arm (-0.02 for the right), y ~ U[-0.08, -0.05];
          no rotation; mass 0.5 kg
        - object: toy car (6 models) or deck of playing cards (3 models), 50/50, with their colours;
          x ~ U[-0.25, -0.2] for the left arm (U[0.2, 0.25] for the right), y ~ U[-0.1, 0.1]; long side towards
          the robot, yaw -pi/2 + U[-pi/6, pi/6]; mass 0.01 kg

    Success conditions:
        - the basket is raised more than 0.02 m above its start and stays upright (its z axis within 60 deg of
          vertical), and
        - the object is raised more than 0.02 m above its start, and
        - the object's origin is within 0.15 m of the basket's origin (sum of |dx|, |dy|, |dz|), and
        - the object touches the basket and does not touch the table
    """

    name = "place_object_basket"
    expert_max_steps = 211
    near_misses = ("basket_on_table", "object_on_table", "basket_tipped", "object_outside")
    arms = "dual"
    seen_instructions = (
        "put the {object} in the basket and lift the basket",
        "place the {object} into the {basket_colour} basket, then pick the basket up",
        "drop the {object} into the basket and raise the basket with the other arm",
        "load the {object} into the {basket_colour} basket and lift it off the table",
        "use one arm to put the {object} in the basket and the other to lift the basket",
        "pick up the {object}, place it in the basket, then lift the basket by its handle",
        "move the {object} into the {basket_colour} basket and hold the basket up",
        "put the {object} inside the basket, then grab the handle and lift",
        "place the {object} in the {basket_colour} basket and raise the basket",
        "get the {object} into the basket, then lift the basket with the free arm",
        "set the {object} down in the basket and pick the basket up by the handle",
        "put the {object} into the {basket_colour} basket and carry the basket up",
        "grab the {object}, drop it in the basket, and lift the basket off the table",
        "place the {object} inside the {basket_colour} basket, then lift the basket slightly",
        "fill the basket with the {object} and raise it",
        "lay the {object} in the basket, then hold the basket up by its handle",
        "put the {object} in the {basket_colour} basket; the other arm lifts the basket",
        "transfer the {object} into the basket and then lift the basket",
        "place the {object} into the basket before lifting the basket up",
        "drop the {object} in the {basket_colour} basket and pick up the basket",
        "stow the {object} in the basket and then lift the basket from the table",
    )
    unseen_instructions = (
        "pack the {object} into the {basket_colour} hamper and hoist the hamper",
        "the {object} belongs in the basket; put it there and take the basket up by the handle",
        "first tuck the {object} into the basket, then raise that basket off the surface",
        "have one hand deposit the {object} in the basket while the other hand then elevates it",
        "pop the {object} into the {basket_colour} carrier and pick the carrier up",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        self.arm = "left" if self.rng.random() < 0.5 else "right"
        self.other = "right" if self.arm == "left" else "left"
        side = -1.0 if self.arm == "left" else 1.0  # the object's side
        self.basket_x = -0.02 * side
        self.basket = build_basket(self.env.scene, self.rng, [self.basket_x, self.rng.uniform(-0.08, -0.05), z])
        self.category = _CATEGORIES[int(self.rng.integers(len(_CATEGORIES)))]
        self.object_xlim = tuple(sorted((0.2 * side, 0.25 * side)))
        x, y = sample_xy(self.rng, self.object_xlim, (-0.1, 0.1))
        yaw = _BASE_YAW + self.rng.uniform(-np.pi / 6, np.pi / 6)
        self.object = build_category(self.category, self.env.scene, self.rng, [x, y, z], yaw, mass=0.01)
        self.start_z = {"basket": z, "object": z}
        self.table = next(e for e in self.env.workspace if e.name == "table")

    def randomization_ranges(self) -> Ranges:
        return {
            "basket": {"x": (self.basket_x, self.basket_x), "y": (-0.08, -0.05), "yaw": (0.0, 0.0)},
            "object": {"x": self.object_xlim, "y": (-0.1, 0.1), "yaw": (_BASE_YAW - np.pi / 6, _BASE_YAW + np.pi / 6)},
        }

    def stage(self, case: str) -> None:
        # The basket as if lifted by its handle (it hangs there for the one physics step the check takes).
        lift = {"basket_on_table": 0.015, "basket_tipped": 0.12}.get(case, 0.05)  # 1.5 cm: the object is 2.3 cm up
        tilt = np.deg2rad(64) if case == "basket_tipped" else 0.0  # the rule allows 60 deg (raised to clear the table)
        turn = [np.cos(tilt / 2), np.sin(tilt / 2), 0.0, 0.0]
        self.basket.set_pose(sapien.Pose(self.basket.pose.p + [0.0, 0.0, lift], turn))
        if case == "object_on_table":  # under the raised basket's floor, on the table
            put_functional(self.object, 0, self.basket.pose.p * [1, 1, 0] + [0, 0, self.start_z["object"]])
        elif case == "object_outside":  # balanced on the end wall's rim: 0.2 m from the basket's origin
            put_functional(self.object, 0, self.basket.functional_world(3).p + [0, 0, 0.0005])
        else:
            put_functional(self.object, 0, self.basket.functional_world(0).p + [0, 0, 0.0005], turn)

    def instruction_slots(self) -> dict[str, str]:
        described = f"{self.object.attributes['colour']} {self.object.attributes['kind']}"
        return {"object": described, "basket_colour": self.basket.attributes["colour"]}

    def check_success(self) -> bool:
        basket, obj = self.basket.pose, self.object.pose
        raised = basket.p[2] - self.start_z["basket"] > 0.02 and obj.p[2] - self.start_z["object"] > 0.02
        upright = rotation(basket)[2, 2] > 0.5
        near = float(np.abs(obj.p - basket.p).sum()) < 0.15
        if not (raised and upright and near):
            return False
        touches_basket = bool(self.env.contacts(self.object.entity, [self.basket.entity]))
        return touches_basket and not self.env.contacts(self.object.entity, [self.table])

    def play_expert(self, motion: Motion) -> None:
        # Into the compartment nearer the object, turned so that its long side runs along the basket.
        near = min((0, 1), key=lambda i: np.linalg.norm(self.basket.functional_world(i).p[:2] - self.object.pose.p[:2]))
        floor = self.basket.functional_world(near).p
        targets = [Placement.of(self.object, sapien.Pose(floor + [0, dy, 0], yaw_quat(yaw)), 0, pre_dis=pre, dis=dis,
                                lift=lift, align=True)
                   for lift, pre, dis in _PLACE_HEIGHTS for dy in (0.0, -0.02) for yaw in (0.0, np.pi)]
        drop = motion.pick_and_place(self.arm, self.object, targets, grasp_pre=_GRASP_PRE)
        motion.retreat(self.arm, drop.pre_dis - drop.dis, "up")  # back up to where the descent began
        motion.home(self.arm)
        motion.grasp(self.other, self.basket, pre_dis=0.08)
        motion.move_by(self.other, [0.0, 0.0, _LIFT])
        motion.move_by(self.other, [_OUTWARD if self.other == "right" else -_OUTWARD, 0.0, 0.0])
