"""place_burger_fries: put the burger and the fries onto the tray, one with each arm."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.food import build_burger, build_fries, build_tray
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.layout import sample_xy
from eva_bench.sim.poses import yaw_quat
from eva_bench.staging import put_functional, set_grippers
from eva_bench.task import Ranges, Task, register_task

# RoboTwin's tray quaternion [0.706527, 0.706483, -0.0291356, -0.0291767] is its Y-up-to-Z-up turn followed by
# a turn of -4.73 deg about the model's up axis: a fixed world yaw.
_TRAY_YAW = -0.0825
_NEAR = 0.08  # success distance (m) between each item and its spot on the tray
# Heights (m): the Piper wrist reaches top-down only ~12 cm above the table, so these are lower than RoboTwin's
# (pre-grasp 0.1, lift 0.1, place pre 0.1, lift 0.08).
_GRASP_PRE = (0.1, 0.07, 0.05, 0.03)
_LIFT = 0.05
_PRE = (0.05, 0.03, 0.015)  # approach heights above the release pose (and retreats), in order of preference


@register_task
class PlaceBurgerFries(Task):
    """The left arm puts the burger and the right arm puts the fries onto the tray between them.

    Randomizations:
        - tray (static; 4 sizes, 5 colours): x = 0, y ~ U[-0.15, -0.1], yaw -4.7 deg (RoboTwin's fixed turn)
        - burger (6 models: hamburger / cheeseburger / double burger, 3 bun colours): x ~ U[-0.3, -0.25],
          y ~ U[-0.15, -0.07]; no rotation
        - fries (2 cartons: red, blue): x ~ U[0.2, 0.3], y ~ U[-0.15, -0.07]; no rotation

    Success conditions:
        - the burger's bottom centre within 0.08 m (xy) of the tray's burger spot (functional point 0), and
        - the fries' bottom centre within 0.08 m (xy) of the tray's fries spot (functional point 1), and
        - both grippers commanded open (> 0.8)
    """

    name = "place_burger_fries"
    expert_max_steps = 213
    near_misses = ("burger_off", "fries_off", "left_gripper_closed", "right_gripper_closed")
    arms = "dual"
    seen_instructions = (
        "put the {burger} and the fries in the {carton} carton on the {tray} tray",
        "place the {burger} and the {carton} carton of fries onto the {tray} tray",
        "serve the {burger} and the {carton} box of fries on the {tray} tray",
        "move the {burger} and the fries onto the {tray} tray",
        "use both arms to put the {burger} and the {carton} fries carton on the {tray} tray",
        "set the {burger} and the {carton} carton of fries down on the {tray} tray",
        "pick up the {burger} and the {carton} fries box and place them on the {tray} tray",
        "load the {tray} tray with the {burger} and the fries",
        "put the {burger} on the left of the {tray} tray and the fries on the right",
        "bring the {burger} and the {carton} box of fries to the {tray} tray",
        "place the {burger} and the French fries onto the {tray} tray",
        "grab the {burger} with the left arm and the fries with the right arm and put both on the {tray} tray",
        "arrange the {burger} and the {carton} carton of fries on the {tray} tray",
        "put the meal, the {burger} and the fries, on the {tray} tray",
        "move the {burger} and the fries in the {carton} carton from the table onto the {tray} tray",
        "transfer the {burger} and the {carton} fries carton to the {tray} tray",
        "place the {burger} and the fries carton on the {tray} tray in the middle",
        "put both the {burger} and the {carton} carton of fries onto the {tray} serving tray",
        "lift the {burger} and the {carton} box of fries onto the {tray} tray",
        "set the {tray} tray with the {burger} and the French fries",
        "carry the {burger} and the fries in the {carton} box over to the {tray} tray",
    )
    unseen_instructions = (
        "plate up the {burger} and the fries on the {tray} tray",
        "get the {burger} and the {carton} chips carton onto the {tray} tray",
        "the {burger} and the fries belong on the {tray} tray; put them there",
        "assemble a fast-food order on the {tray} tray with the {burger} and the fries",
        "drop the {burger} and the {carton} pack of fries off on the {tray} tray",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        scene = self.env.scene
        tray_y = self.rng.uniform(-0.15, -0.1)
        self.tray = build_tray(scene, self.rng, sapien.Pose([0.0, tray_y, z], yaw_quat(_TRAY_YAW)))
        bx, by = sample_xy(self.rng, (-0.3, -0.25), (-0.15, -0.07))
        self.burger = build_burger(scene, self.rng, [bx, by, z + 0.001], mass=0.05)
        fx, fy = sample_xy(self.rng, (0.2, 0.3), (-0.15, -0.07))
        self.fries = build_fries(scene, self.rng, [fx, fy, z + 0.001], mass=0.05)

    def randomization_ranges(self) -> Ranges:
        return {
            "tray": {"x": (0.0, 0.0), "y": (-0.15, -0.1), "yaw": (_TRAY_YAW, _TRAY_YAW)},
            "burger": {"x": (-0.3, -0.25), "y": (-0.15, -0.07), "yaw": (0.0, 0.0)},
            "fries": {"x": (0.2, 0.3), "y": (-0.15, -0.07), "yaw": (0.0, 0.0)},
        }

    def stage(self, case: str) -> None:
        burger_off = [0.0, _NEAR + 0.01, 0.0] if case == "burger_off" else [0.0, 0.0, 0.0]
        fries_off = [_NEAR + 0.01, 0.0, 0.0] if case == "fries_off" else [0.0, 0.0, 0.0]
        put_functional(self.burger, 0, self.tray.functional_world(0).p + burger_off + [0, 0, 0.001])
        put_functional(self.fries, 0, self.tray.functional_world(1).p + fries_off + [0, 0, 0.001])
        set_grippers(self.env, 0.0 if case == "left_gripper_closed" else 1.0,
                     0.0 if case == "right_gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        return {"burger": self.burger.attributes["kind"], "carton": self.fries.attributes["colour"],
                "tray": self.tray.attributes["colour"]}

    def check_success(self) -> bool:
        burger = np.linalg.norm(self.tray.functional_world(0).p[:2] - self.burger.functional_world(0).p[:2])
        fries = np.linalg.norm(self.tray.functional_world(1).p[:2] - self.fries.functional_world(0).p[:2])
        return bool(burger < _NEAR and fries < _NEAR and self.both_grippers_open())

    def _onto(self, obj, spot: int) -> list[Placement]:
        """Onto the tray spot, released 2 cm above it; lower approaches and retreats come after, for where the
        wrist cannot reach that high."""
        return [Placement.of(obj, self.tray.functional_world(spot), 0, pre_dis=0.02 + pre, dis=0.02, lift=_LIFT,
                             retreat=pre, supports=(self.tray,)) for pre in _PRE]

    def play_expert(self, motion: Motion) -> None:
        burger_options, fries_options = self._onto(self.burger, 0), self._onto(self.fries, 1)
        chosen = motion.grasp_both({"left": (self.burger, burger_options), "right": (self.fries, fries_options)},
                                   grasp_pre=_GRASP_PRE, lift=_LIFT)
        motion.place_checked("left", self.burger, chosen["left"], burger_options)
        motion.home("left")  # out of the way first: both wrists lean over the tray from opposite sides
        motion.place_checked("right", self.fries, chosen["right"], fries_options)
