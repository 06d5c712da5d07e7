"""place_bread_basket: put one or two pieces of bread into the bread basket."""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.assets.bread import build_bread
from eva_bench.assets.bread_basket import build_bread_basket
from eva_bench.motion import Motion
from eva_bench.placement import Placement
from eva_bench.sim.poses import yaw_quat
from eva_bench.sim.urdf import TIP_MARGIN
from eva_bench.staging import put, set_grippers
from eva_bench.task import Ranges, Task, register_task

_BASKET_XY = (0.0, -0.2)
_TRIES = 50
_SLOT = 0.035  # two breads lie side by side, this far either side of the basket's centre line (m)
# Heights (m): the Piper wrist reaches top-down only ~12 cm above the table, so these are lower than RoboTwin's
# (lift 0.1, pre 0.12/0.13, retreat 0.1/0.15).
_LIFT, _PRE, _RETREAT = 0.03, 0.03, 0.03
_GRASP_PRE = (0.07, 0.05, 0.03)  # RoboTwin's pre-grasp distance, then closer ones for breads far from the arm


def _bread_phrase(bread) -> str:
    return f"{bread.attributes['colour']} {bread.attributes['kind']}"


@register_task
class PlaceBreadBasket(Task):
    """Put every piece of bread on the table into the bread basket (both arms when they lie on both sides).

    Randomizations:
        - basket (5 models: round / rectangular / square, 4 colours) at (0, -0.2), yaw ~ U[-3.14, 3.14]
        - two breads (5 models: loaves, rolls, a bun; 4 crust colours): x ~ U[-0.27, 0.27] with |x| >= 0.15,
          y ~ U[-0.2, 0.05], yaw ~ U[-pi/4, pi/4]; each at least 0.1 m from the basket (50 tries, else the
          scene has no bread from there on) and the second at least 0.1 m from the first (else it is left out,
          as RoboTwin's sampler does): one or two breads

    Success conditions:
        - every bread's origin within |dx|, |dy| < 0.05 m of the basket origin and above z = 0.73, and
        - both grippers commanded open (> 0.8)
    """

    name = "place_bread_basket"
    expert_max_steps = 215
    near_misses = ("off_x", "off_y", "below_table", "left_gripper_closed", "right_gripper_closed")
    arms = "dual"
    seen_instructions = (
        "put the {breads} into the {basket} basket",
        "place the {breads} in the {basket} bread basket",
        "move the {breads} into the {basket} basket",
        "pick up the {breads} and drop the bread into the {basket} basket",
        "load the {basket} basket with the {breads}",
        "transfer the {breads} to the {basket} bread basket",
        "put the {breads} in the {basket} basket in the middle",
        "set the {breads} inside the {basket} basket",
        "collect the {breads} in the {basket} basket",
        "grab the {breads} and put the bread in the {basket} basket",
        "place the {breads} into the {basket} basket in front of you",
        "fill the {basket} basket with the {breads}",
        "move the {breads} from the table into the {basket} basket",
        "bring the {breads} over to the {basket} basket",
        "put the {breads} away in the {basket} bread basket",
        "carry the {breads} to the {basket} basket and let go",
        "store the {breads} in the {basket} basket",
        "lift the {breads} into the {basket} basket",
        "use the arms to put the {breads} in the {basket} basket",
        "place all the bread, the {breads}, in the {basket} basket",
        "gather the {breads} into the {basket} basket",
    )
    unseen_instructions = (
        "the {breads} should end up in the {basket} basket",
        "drop off the {breads} inside the {basket} breadbasket",
        "tidy the {breads} into the {basket} basket",
        "get the {breads} off the table and into the {basket} basket",
        "deposit the {breads} in the {basket} bread container",
    )

    def load(self) -> None:
        z = self.env.embodiment.table_height
        basket_yaw = self.rng.uniform(-3.14, 3.14)
        self.basket = build_bread_basket(
            self.env.scene, self.rng, sapien.Pose([*_BASKET_XY, z + 0.001], yaw_quat(basket_yaw)), mass=0.2
        )
        self.breads = []
        for i in range(2):
            xy = self._sample_bread()
            if xy is None:
                break
            if self.breads and np.linalg.norm(xy - self.breads[0].pose.p[:2]) < 0.1:
                break  # RoboTwin's sampler never redraws a bread too close to the other one: it leaves it out
            yaw = self.rng.uniform(-np.pi / 4, np.pi / 4)
            pose = sapien.Pose([*xy, z + 0.001], yaw_quat(yaw))
            self.breads.append(build_bread(self.env.scene, self.rng, pose, mass=0.01, name=f"bread_{i}"))

    def _sample_bread(self) -> np.ndarray | None:
        for _ in range(_TRIES):
            xy = np.array([self.rng.uniform(-0.27, 0.27), self.rng.uniform(-0.2, 0.05)])
            if abs(xy[0]) >= 0.15 and np.linalg.norm(xy - _BASKET_XY) >= 0.1:
                return xy
        return None

    def randomization_ranges(self) -> Ranges:
        return {
            "basket": {"x": (0.0, 0.0), "y": (-0.2, -0.2)},
            "breads": {"abs_x": (0.15, 0.27), "y": (-0.2, 0.05), "yaw": (-np.pi / 4, np.pi / 4)},
        }

    def _slots(self) -> list[sapien.Pose]:
        """Target poses of the breads' bottom centres: one centred bread, or two side by side; each lies along
        world x, across which both arms can lean their wrists to reach over the basket."""
        floor = self.basket.functional_world(0).p
        offsets = [0.0] if len(self.breads) == 1 else [-_SLOT, _SLOT]
        return [sapien.Pose(floor + [0, d, 0]) for d in offsets]

    def stage(self, case: str) -> None:
        slots = self._slots()
        for bread, slot in zip(self.breads, slots, strict=True):
            put(bread, slot.p + [0, 0, 0.002], slot.q)
        last, origin = self.breads[-1], self.basket.pose.p  # the other bread (if any) stays in the basket
        if case in ("off_x", "off_y"):
            target = origin + [0.0, 0.0, 0.05]
            target[0 if case == "off_x" else 1] += 0.06  # held up over the rim, 6 cm off centre
            put(last, target)
        elif case == "below_table":
            put(last, [origin[0], origin[1], 0.65])  # under the table top, below the 0.73 m floor of the rule
        set_grippers(self.env, 0.0 if case == "left_gripper_closed" else 1.0,
                     0.0 if case == "right_gripper_closed" else 1.0)

    def instruction_slots(self) -> dict[str, str]:
        breads = " and the ".join(_bread_phrase(b) for b in self.breads)
        return {"breads": breads, "basket": f"{self.basket.attributes['colour']} {self.basket.attributes['shape']}"}

    def check_success(self) -> bool:
        origin = self.basket.pose.p
        for bread in self.breads:
            p = bread.pose.p
            if not (abs(p[0] - origin[0]) < 0.05 and abs(p[1] - origin[1]) < 0.05 and p[2] > 0.73):
                return False
        return self.both_grippers_open()

    def _placements(self, bread, slot: sapien.Pose, placed, retreat: float) -> list[Placement]:
        # Lay the bread along x (either way round), released with the finger tips above the basket's rim and
        # above the bread already in it (the fingers open over them).
        tips = bread.contact_points[0].p[2] - TIP_MARGIN  # finger tips above the bread's bottom
        floor = self.basket.functional_world(0).p[2]
        rim = self.basket.functional_world(1).p[2] - floor
        # The bread may have turned a little in the hand: keep 2 cm over the other bread, 8 mm over the rim.
        below = max([b.functional_points[1].p[2] for b in placed], default=0.0)
        dis = max(0.02, rim + 0.008 - tips, below + 0.02 - tips)
        turned = slot * sapien.Pose(q=[0.0, 0.0, 0.0, 1.0])
        return [Placement.of(bread, s, 0, pre_dis=dis + _PRE, dis=dis, align=True, lift=_LIFT, retreat=retreat,
                             supports=(self.basket, *placed)) for s in (slot, turned)]

    def play_expert(self, motion: Motion) -> None:
        breads, slots = self.breads, self._slots()
        if len(breads) == 2:  # each bread goes to the nearer slot
            cost = [sum(np.linalg.norm(b.pose.p[:2] - s.p[:2]) for b, s in zip(breads, order, strict=True))
                    for order in (slots, slots[::-1])]
            slots = slots if cost[0] <= cost[1] else slots[::-1]
        sides = [self.side_arm(b) for b in breads]
        if len(breads) == 1 or sides[0] == sides[1]:
            arm = sides[0]
            order = sorted(range(len(breads)), key=lambda i: breads[i].pose.p[1])  # the front bread first
            placed = []
            for i in order:
                options = self._placements(breads[i], slots[i], placed, _RETREAT)
                motion.pick_and_place(arm, breads[i], options, grasp_pre=_GRASP_PRE)
                placed.append(breads[i])
            return
        left, right = (0, 1) if sides[0] == "left" else (1, 0)
        to_left = self._placements(breads[left], slots[left], [], _RETREAT)
        to_right = self._placements(breads[right], slots[right], [breads[left]], _RETREAT)
        chosen = motion.grasp_both({"left": (breads[left], to_left), "right": (breads[right], to_right)},
                                   grasp_pre=_GRASP_PRE, lift=_LIFT)
        motion.place_checked("left", breads[left], chosen["left"], to_left)
        motion.home("left")  # out of the way first: both wrists lean over the basket from opposite sides
        motion.place_checked("right", breads[right], chosen["right"], to_right)
