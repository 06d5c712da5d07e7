"""Shared motion primitives for scripted experts: grasp, place, move, press, handover, dual-arm moves.

Every task's expert is written with these; no task carries motion code of its own. A primitive plans from
the arm's commanded state with `ArmPlanner` and executes through `BimanualEnv.step`, so the expert produces
exactly the 14-dim actions a policy would, and they are recorded in `Motion.actions`.

Inside `with motion.together():` the primitives of both arms are queued and then executed in lockstep, phase
by phase (the shorter phase holds), which is how synchronous dual-arm motions are expressed.
"""

from __future__ import annotations

import dataclasses
import functools
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sapien

from eva_bench.placement import Placement, Then, alternatives, retreat_pose
from eva_bench.sim.embodiment import ARMS, CONTROL_DT, EmbodimentSpec, arm_slice, gripper_index
from eva_bench.sim.env import BimanualEnv
from eva_bench.sim.objects import SimObject
from eva_bench.sim.planner import ArmPlanner, PlanningError
from eva_bench.sim.poses import flip_about_x, frame, rotation
from eva_bench.sim.urdf import TIP_MARGIN, arm_files

_GRIPPER_SETTLE_STEPS = 3  # extra control steps after a gripper change, for the fingers to reach the object
_DOWN = np.array([0.0, 0.0, -1.0])
_TILTS = np.deg2rad([0, 15, 30, 45, 60])  # approach tilts tried when the annotated frame is out of reach


@dataclass
class Segment:
    """One phase of one arm: a joint path (N, 6) sampled at the control rate, or a gripper change."""

    path: np.ndarray | None = None
    gripper: float | None = None


def entities_of(obj) -> list:
    """The SAPIEN entities of a task object: every link of an articulated object (it has `entities`), the
    entity of a `SimObject`, or a bare entity itself."""
    if hasattr(obj, "entities"):
        return list(obj.entities)
    return [getattr(obj, "entity", obj)]


def _turn_between(a: sapien.Pose, b: sapien.Pose) -> float:
    """The turn about the vertical (rad, in [-pi, pi]) from upright pose `a`'s orientation to `b`'s."""
    xa, xb = rotation(a)[:2, 0], rotation(b)[:2, 0]
    return float(np.arctan2(xa[0] * xb[1] - xa[1] * xb[0], xa @ xb))


@functools.lru_cache(maxsize=8)
def _planner(spec: EmbodimentSpec, arm: str, speed_scale: float) -> ArmPlanner:
    mount = spec.mounts[ARMS.index(arm)]
    return ArmPlanner(spec, mount, arm_files(spec), CONTROL_DT, speed_scale)


class Motion:
    """The expert's toolbox bound to one environment episode.

    Args:
        env: A reset environment.
        speed_scale: Fraction of the embodiment's joint speed/acceleration limits used by the expert.
    """

    def __init__(self, env: BimanualEnv, speed_scale: float = 0.5) -> None:
        self.env = env
        self.planners = {arm: _planner(env.embodiment, arm, speed_scale) for arm in ARMS}
        self.actions: list[np.ndarray] = []
        self._queue: dict[str, list[Segment]] | None = None
        self._q = {arm: env.arm_qpos(arm) for arm in ARMS}
        self._g = {arm: env.gripper_command(arm) for arm in ARMS}
        self._gripper_step = env.embodiment.arm.gripper_speed * CONTROL_DT * speed_scale
        self._held: dict[str, set] = {arm: set() for arm in ARMS}
        self._released: dict[str, set] = {arm: set() for arm in ARMS}  # just let go: the fingers still surround it
        self._own = {arm: env.arms[arm].entities for arm in ARMS}

    # ------------------------------------------------------------------ execution
    @contextmanager
    def together(self):
        """Queue the primitives called inside the block and run both arms' phases in lockstep."""
        if self._queue is not None:
            raise RuntimeError("together() blocks cannot be nested")
        self._queue = {arm: [] for arm in ARMS}
        try:
            yield self
            queue = self._queue
        finally:
            self._queue = None
        self._execute(queue)

    def _add(self, arm: str, segments: list[Segment]) -> None:
        for segment in segments:
            if segment.path is not None and len(segment.path):
                self._q[arm] = segment.path[-1]
            if segment.gripper is not None:
                self._g[arm] = segment.gripper
        if self._queue is None:
            self._execute({arm: segments})
        else:
            self._queue[arm].extend(segments)

    def _arm_rows(self, segment: Segment | None, q: np.ndarray, g: float) -> list[tuple]:
        """(joint target, gripper) per control step; a gripper change ramps along the path or in place."""
        if segment is None:
            return []
        path = [q] if segment.path is None or not len(segment.path) else list(segment.path)
        if segment.gripper is None:
            return [(row, g) for row in path]
        ramp_steps = int(np.ceil(abs(segment.gripper - g) / self._gripper_step))
        length = max(len(path), ramp_steps + _GRIPPER_SETTLE_STEPS)
        rows = []
        for k in range(1, length + 1):
            fraction = min(1.0, k / ramp_steps) if ramp_steps else 1.0
            rows.append((path[min(k, len(path)) - 1], g + (segment.gripper - g) * fraction))
        return rows

    def _execute(self, segments: dict[str, list[Segment]]) -> None:
        phases = max(len(s) for s in segments.values())
        for i in range(phases):
            rows = {}
            for arm in ARMS:
                q, g = self.env.arm_qpos(arm), self.env.gripper_command(arm)
                arm_segments = segments.get(arm, [])
                rows[arm] = self._arm_rows(arm_segments[i] if i < len(arm_segments) else None, q, g)
            length = max(len(r) for r in rows.values())
            for k in range(length):
                action = self.env.command.astype(np.float64).copy()
                for arm in ARMS:
                    if rows[arm]:
                        q, g = rows[arm][min(k, len(rows[arm]) - 1)]
                        action[arm_slice(arm)] = q
                        action[gripper_index(arm)] = g
                self.env.step(action)
                self.actions.append(self.env.command.copy())
        for arm in ARMS:  # re-synchronize with what the environment actually commanded
            self._q[arm], self._g[arm] = self.env.arm_qpos(arm), self.env.gripper_command(arm)

    def hold(self, steps: int) -> None:
        """Keep every target for `steps` control steps."""
        for _ in range(steps):
            self.env.step(self.env.command)
            self.actions.append(self.env.command.copy())

    # ------------------------------------------------------------------ poses
    def tcp_pose(self, arm: str) -> sapien.Pose:
        """The TCP pose of `arm` at its planned (commanded) configuration."""
        return self.planners[arm].fk(self._q[arm])

    # ------------------------------------------------------------------ primitives
    def _avoid(self, arm: str, ignore=()) -> None:
        """Tell `arm`'s planner about every object and the other arm, except what it holds and `ignore`."""
        skip = set(self._own[arm]) | self._held[arm] | {x for e in ignore for x in entities_of(e)}
        self.planners[arm].set_obstacles(
            [e for e in self.env.scene.get_entities() if e not in self.env.workspace and e not in skip]
        )

    def move_to(
        self,
        arm: str,
        pose: sapien.Pose,
        line: bool | str = False,
        symmetric: bool = True,
        gripper: float | None = None,
        ignore=(),
    ) -> None:
        """Bring the TCP to `pose`.

        Args:
            arm: Which arm.
            pose: Target TCP pose (world).
            line: True for a straight TCP line, False for any collision-free path, "prefer" for a straight
                line when the workspace allows one, else any path (for lifts and retreats in free space).
            symmetric: Accept the pose turned 180 deg about the approach axis (not while holding an object).
            gripper: A gripper value reached while moving.
            ignore: Objects the motion may touch (the object being grasped or pressed).
        """
        planner = self.planners[arm]
        self._avoid(arm, ignore)
        if line:
            try:
                path = planner.plan_line(self._q[arm], pose)
            except PlanningError:
                if line != "prefer":
                    raise
                path = planner.plan_to_pose(self._q[arm], pose, symmetric=False)
        else:
            path = planner.plan_to_pose(self._q[arm], pose, symmetric)
        self._add(arm, [Segment(path=path, gripper=gripper)])

    def move_by(self, arm: str, offset) -> None:
        """Translate the TCP by a world-frame `offset` (m), keeping its orientation (straight if possible)."""
        current = self.tcp_pose(arm)
        self.move_to(arm, sapien.Pose(current.p + np.asarray(offset, float), current.q), line="prefer")

    def retreat(self, arm: str, distance: float, axis: str = "approach") -> None:
        """Back the TCP away by `distance` (m) along its approach axis, or straight up (straight if possible).

        The object just released may be brushed on the way out.
        """
        self.move_to(arm, retreat_pose(self.tcp_pose(arm), distance, axis), line="prefer", ignore=self._released[arm])

    def set_gripper(self, arm: str, value: float) -> None:
        """Open (1) or close (0) the gripper, at the expert's gripper speed."""
        self._add(arm, [Segment(gripper=float(value))])

    def release(self, arm: str) -> None:
        """Open the gripper and let go of whatever it holds."""
        self.set_gripper(arm, 1.0)
        self._released[arm] = set(self._held[arm])
        self._held[arm].clear()

    def home(self, arm: str) -> None:
        """Return `arm` to the embodiment's home configuration."""
        self._avoid(arm)
        path = self.planners[arm].plan_to_qpos(self._q[arm], self.env.embodiment.home_qpos(arm))
        self._add(arm, [Segment(path=path)])

    def choose_contact(
        self,
        arm: str,
        obj: SimObject,
        contact_ids=None,
        pre_dis: float = 0.1,
        grasp_dis: float = 0.0,
        then: Then = None,
    ) -> tuple[sapien.Pose, Placement | None]:
        """The grasp frame among `obj`'s contact points that the arm reaches most naturally.

        Each contact frame is tried as annotated and turned 180 deg about its approach axis (a parallel
        gripper grasps either way up); when the wrist cannot reach it, it may also be tilted about its
        closing axis (the fingers still close across the same faces). Smaller tilts win, then top-down
        approaches (RoboTwin prefers them too), then the configuration nearest the current one. With `then`,
        a grasp is only accepted if the placement that follows (or one of several alternatives, earlier ones
        preferred) is reachable while holding the object that way; `then` may also be a function of the grasp
        frame returning the alternatives (e.g. to turn the object so the grasped face points somewhere).

        Returns:
            The grasp TCP frame and the placement alternative it makes reachable (None without `then`).

        Raises:
            PlanningError: No candidate is reachable.
        """
        ids = range(len(obj.contact_points)) if contact_ids is None else contact_ids
        frames = [obj.contact_world(i) for i in ids]
        return self._reachable_frame(arm, frames, pre_dis, grasp_dis, obj.name, obj, then)

    def _reachable_frame(
        self,
        arm: str,
        frames: list[sapien.Pose],
        pre_dis: float,
        grasp_dis: float,
        what: str,
        target: SimObject | None = None,
        then: Then = None,
        obj_pose: sapien.Pose | None = None,
    ) -> tuple[sapien.Pose, Placement | None]:
        planner, q_now = self.planners[arm], self._q[arm]
        candidates = [f for base in frames for f in (base, flip_about_x(base))]
        for tilt in _TILTS:
            best, best_cost = (None, None), np.inf
            for base in candidates:
                for sign in ((1.0, -1.0) if tilt else (1.0,)):
                    grasp = base * sapien.Pose(q=[np.cos(sign * tilt / 2), 0.0, np.sin(sign * tilt / 2), 0.0])
                    approach = rotation(grasp)[:, 0]
                    try:
                        self._avoid(arm)
                        q_pre = planner.ik(sapien.Pose(grasp.p - pre_dis * approach, grasp.q), q_now, False)
                        self._avoid(arm, ignore=[target] if target is not None else ())
                        q_end = planner.plan_line(q_pre, sapien.Pose(grasp.p - grasp_dis * approach, grasp.q))[-1]
                    except PlanningError:
                        continue
                    options = alternatives(then, grasp)
                    rank, chosen = self._first_reachable(arm, options, target, grasp, q_end, obj_pose)
                    if options and chosen is None:
                        continue
                    cost = float(np.abs(q_pre - q_now).sum()) + 2.0 * (1.0 - float(np.dot(approach, _DOWN)))
                    cost += self._limit_penalty(q_end) + 5.0 * rank
                    if cost < best_cost:
                        best, best_cost = (grasp, chosen), cost
            if best[0] is not None:
                return best
        raise PlanningError(f"{arm} arm reaches none of the candidate frames of {what}")

    def _first_reachable(
        self,
        arm: str,
        alternatives: list[Placement],
        obj: SimObject,
        grasp: sapien.Pose,
        q: np.ndarray,
        obj_pose: sapien.Pose | None = None,
    ) -> tuple[int, Placement | None]:
        """The first placement whose waypoints the arm reaches holding `obj` at `grasp` (rank, placement);
        `obj_pose` is where the object is when grasped (default: where it is now)."""
        planner = self.planners[arm]
        for rank, placement in enumerate(alternatives):
            poses = placement.tcp_poses(obj.pose if obj_pose is None else obj_pose, grasp)
            release = len(poses) - (2 if placement.retreat else 1)
            try:
                q_end = q
                for index, pose in enumerate(poses):
                    if index == release:
                        self._avoid(arm, ignore=[obj, *placement.supports])
                        q_end = planner.plan_line(q_end, pose)[-1]
                        self._avoid(arm, ignore=[obj])
                    else:
                        q_end = planner.ik(pose, q_end, symmetric=False)
            except PlanningError:
                continue
            return rank, placement
        return 0, None

    def _limit_penalty(self, qpos: np.ndarray) -> float:
        """Grows as joints near their limits: configurations with room to move are preferred."""
        arm = self.env.embodiment.arm
        centre, half = (arm.upper + arm.lower) / 2, (arm.upper - arm.lower) / 2
        return float(10.0 * np.sum(np.maximum(0.0, np.abs(qpos - centre) / half - 0.7)))

    def grasp(
        self,
        arm: str,
        obj: SimObject,
        contact_ids=None,
        pre_dis: float = 0.1,
        grasp_dis: float = 0.0,
        gripper: float = 0.0,
        then: Then = None,
    ) -> Placement | None:
        """Approach a contact point of `obj` from `pre_dis` back, advance to `grasp_dis` back, close.

        `then` names the placement that will follow (or alternatives, in order of preference), so the grasp
        is chosen to make it reachable; the placement it made reachable is returned.
        """
        grasp, placement = self.choose_contact(arm, obj, contact_ids, pre_dis, grasp_dis, then)
        approach = rotation(grasp)[:, 0]
        self.move_to(arm, sapien.Pose(grasp.p - pre_dis * approach, grasp.q), symmetric=False, gripper=1.0)
        if pre_dis != grasp_dis:
            # The final approach may brush the object (a rim pinch puts one finger inside a cup).
            self.move_to(arm, sapien.Pose(grasp.p - grasp_dis * approach, grasp.q), line=True, ignore=[obj])
        self.set_gripper(arm, gripper)
        self._held[arm].update(entities_of(obj))
        return placement

    def place(self, arm: str, obj: SimObject, placement: Placement, release: bool = True) -> None:
        """Carry the grasped `obj` to `placement`: lift, go `pre_dis` above the target, descend to `dis` above it."""
        if placement.lift:
            self.move_by(arm, [0.0, 0.0, placement.lift])
        poses = placement.tcp_poses(obj.pose, self.tcp_pose(arm))
        pre, final = poses[-3:-1] if placement.retreat else poses[-2:]
        self.move_to(arm, pre, symmetric=False)
        self.move_to(arm, final, line=True, ignore=placement.supports)
        if release:
            self.release(arm)
            if placement.retreat:
                self.retreat(arm, placement.retreat, placement.retreat_axis)

    def _grasp_from_first(self, arm: str, obj: SimObject, contact_ids, distances, then: Then) -> Placement | None:
        """`grasp` from the first of the approach `distances` that works (shorter ones where the wrist cannot
        reach that high above the object); raises the last distance's PlanningError."""
        for k, pre_dis in enumerate(distances):
            try:
                return self.grasp(arm, obj, contact_ids, pre_dis=pre_dis, then=then)
            except PlanningError:
                if k == len(distances) - 1:
                    raise
        raise PlanningError(f"no approach distance given for the {arm} arm's grasp of {obj.name}")

    def reachable_placement(self, arm: str, obj: SimObject, then: Then) -> Placement | None:
        """The first of `then`'s placements that `arm` reaches holding `obj` as it is held now (None if none).

        For right after a grasp: closing the fingers may shift the object a little, so a placement chosen
        before the grasp (at the edge of the arm's reach) can be re-checked, or replaced by a later
        alternative, before anything is carried over.
        """
        grasp = self.tcp_pose(arm)
        return self._first_reachable(arm, alternatives(then, grasp), obj, grasp, self._q[arm])[1]

    def pick_and_place(
        self,
        arm: str,
        obj: SimObject,
        options: Then,
        contact_ids=None,
        grasp_pre=(0.1,),
        release: bool = True,
    ) -> Placement:
        """Grasp `obj` and carry it to the first reachable of the placement `options` (in order of preference;
        a list, or a function of the grasp frame as for `grasp(then=...)`).

        The grasp is chosen to make one of `options` reachable, trying the approach distances `grasp_pre` in
        order (shorter ones where the wrist cannot reach that high above the object). After the chosen
        placement's lift, the placement is re-checked from where the object really is (it may have shifted in
        the fingers) and replaced by the next reachable option if needed; then `place` finishes the move.

        Returns:
            The placement carried out.

        Raises:
            PlanningError: No grasp makes any option reachable, or none is reachable any more after the lift.
        """
        try:
            placement = self._grasp_from_first(arm, obj, contact_ids, grasp_pre, options)
        except PlanningError as error:
            raise PlanningError(f"{arm} arm finds no grasp of {obj.name} that makes a placement reachable") from error
        if placement.lift:
            self.move_by(arm, [0.0, 0.0, placement.lift])
        held = alternatives(options, self.tcp_pose(arm))  # a function of the grasp frame gives the same list
        lifted = [dataclasses.replace(option, lift=0.0) for option in [placement, *held]]
        chosen = self.reachable_placement(arm, obj, lifted)
        if chosen is None:
            raise PlanningError(f"{obj.name} shifted in the {arm} gripper: no placement is reachable any more")
        self.place(arm, obj, chosen, release=release)
        return chosen

    def press(
        self, arm: str, point, pre_dis: float = 0.08, depth: float = 0.01, target: SimObject | None = None
    ) -> None:
        """Close the gripper, hover `pre_dis` above `point`, push the finger tips `depth` past it, rise again.

        The approach is top-down when the wrist allows it, else tilted toward the arm's reach direction.
        `target` is the object being pressed (the finger tips may touch it).
        """
        point = np.asarray(point, float)
        reach = point[:2] - np.asarray(self.env.embodiment.mounts[ARMS.index(arm)].xyz[:2])
        closing = np.array([-reach[1], reach[0], 0.0])  # across the reach direction: no wrist roll needed
        # The finger tips, not the TCP, do the pressing: aim the TCP TIP_MARGIN short of the point.
        aim, _ = self._reachable_frame(
            arm, [frame(_DOWN, closing, point)], pre_dis + TIP_MARGIN, TIP_MARGIN - depth, "the press point", target
        )
        approach = rotation(aim)[:, 0]
        hover = sapien.Pose(aim.p - (pre_dis + TIP_MARGIN) * approach, aim.q)
        self.move_to(arm, hover, gripper=0.0)
        touch = [target] if target is not None else ()
        self.move_to(arm, sapien.Pose(aim.p - (TIP_MARGIN - depth) * approach, aim.q), line=True, ignore=touch)
        self.move_to(arm, hover, line=True, ignore=touch)

    def handover(
        self,
        giver: str,
        receiver: str,
        obj: SimObject,
        contact_ids=None,
        pre_dis: float = 0.08,
        then: Then = None,
        giver_placement: Placement | None = None,
    ) -> Placement | None:
        """`receiver` grasps `obj` held by `giver` (choosing a grasp that makes `then` reachable), then
        `giver` opens and backs off as its `giver_placement` (the placement that brought `obj` here) says."""
        placement = self.grasp(receiver, obj, contact_ids, pre_dis=pre_dis, then=then)
        self.release(giver)
        if giver_placement is not None and giver_placement.retreat:
            self.retreat(giver, giver_placement.retreat, giver_placement.retreat_axis)
        return placement

    def push(self, arm: str, obj, contact_ids=None, pre_dis: float = 0.05, depth: float = 0.01,
             back: bool = True) -> None:
        """Close the gripper, line up `pre_dis` in front of one of `obj`'s contact frames and push the finger
        tips `depth` past the contact point along the frame's approach axis, then (with `back`) back off again.

        The sideways counterpart of `press`: buttons, switches and drawer fronts on any face of an object. The
        frame is chosen like a grasp (`choose_contact`: flips, tilts, the most natural reach); the finger tips
        may touch every part of `obj` (every link of an articulated object).
        """
        ids = range(len(obj.contact_points)) if contact_ids is None else contact_ids
        frames = [obj.contact_world(i) for i in ids]
        aim, _ = self._reachable_frame(arm, frames, pre_dis + TIP_MARGIN, TIP_MARGIN - depth, obj.name, obj)
        approach = rotation(aim)[:, 0]
        hover = sapien.Pose(aim.p - (pre_dis + TIP_MARGIN) * approach, aim.q)
        self.move_to(arm, hover, symmetric=False, gripper=0.0)
        self.move_to(arm, sapien.Pose(aim.p - (TIP_MARGIN - depth) * approach, aim.q), line=True, ignore=[obj])
        if back:
            self.move_to(arm, hover, line=True, ignore=[obj])

    def move_arc(
        self, arm: str, point, axis, angle: float, max_step: float = 0.1, ignore=(), turn_tcp: bool = True
    ) -> None:
        """Carry the TCP along a circular arc: the rotation by `angle` (rad, right-hand rule) about the world
        axis through `point` along `axis`, the TCP turning with it (a hand holding a lid, a door or a knob) or,
        with `turn_tcp=False`, keeping its orientation (finger tips pushing a lid or a door along its arc).

        The arc is followed through IK waypoints at most `max_step` rad apart (each chord checked as a straight
        TCP line) and executed as one smooth motion.

        Raises:
            PlanningError: A part of the arc is out of reach or collides.
        """
        planner = self.planners[arm]
        self._avoid(arm, ignore)
        start, point = self.tcp_pose(arm), np.asarray(point, float)
        axis = np.asarray(axis, float) / np.linalg.norm(axis)
        steps = max(1, int(np.ceil(abs(angle) / max_step)))
        pivot = sapien.Pose(point)
        waypoints = [self._q[arm]]
        for k in range(1, steps + 1):
            half = 0.5 * angle * k / steps
            turn = sapien.Pose(q=[np.cos(half), *(np.sin(half) * axis)])
            pose = pivot * turn * pivot.inv() * start
            pose = pose if turn_tcp else sapien.Pose(pose.p, start.q)
            waypoints.append(planner.plan_line(waypoints[-1], pose)[-1])
        self._add(arm, [Segment(path=planner.retime(np.stack(waypoints)))])

    def shake(self, arm: str, strokes, mirror: bool = True) -> None:
        """Shake what `arm` holds: for each (rise, roll) stroke, move the TCP `rise` m up (down if negative) while
        turning it to `roll` rad about its approach axis, relative to its orientation when the shake starts.

        Each stroke is a straight TCP line where the workspace allows one, else any collision-free path. With
        `mirror`, every roll is reversed when the wrist cannot make the strokes as given but can mirrored (a
        shake is symmetric; a wrist's roll range is not).
        """
        start = self.tcp_pose(arm)

        def poses(sign: float) -> list[sapien.Pose]:
            position, out = start.p.copy(), []
            for rise, roll in strokes:
                position = position + [0.0, 0.0, rise]
                half = sign * roll / 2
                out.append(sapien.Pose(position, (start * sapien.Pose(q=[np.cos(half), np.sin(half), 0, 0])).q))
            return out

        chosen = poses(1.0)
        if mirror:
            self._avoid(arm)
            for sign in (1.0, -1.0):
                try:
                    q = self._q[arm]
                    for pose in poses(sign):
                        q = self.planners[arm].ik(pose, q, symmetric=False)
                except PlanningError:
                    continue
                chosen = poses(sign)
                break
        for pose in chosen:
            self.move_to(arm, pose, line="prefer", symmetric=False)

    def can_grasp(self, arm: str, obj: SimObject, then: Then, contact_ids=None, pre_dis: float = 0.1,
                  obj_pose: sapien.Pose | None = None) -> bool:
        """Whether some grasp of `obj` makes `then` reachable, with `obj` where it is or as if it lay at
        `obj_pose` (nothing moves)."""
        pose = obj.pose if obj_pose is None else obj_pose
        ids = range(len(obj.contact_points)) if contact_ids is None else contact_ids
        frames = [pose * obj.contact_points[i] for i in ids]
        try:
            self._reachable_frame(arm, frames, pre_dis, 0.0, obj.name, obj, then, obj_pose)
        except PlanningError:
            return False
        return True

    def reorient(self, arm: str, obj: SimObject, then: Then, turns=None, spots=(), contact_ids=None,
                 pre_dis: float = 0.1, lift: float = 0.03) -> tuple[float, np.ndarray] | None:
        """Turn a lying `obj` about the vertical (pick it up, set it down turned) when no grasp of it makes
        `then` reachable as it lies: a wrist that cannot turn an object all the way in one carry.

        `turns` (rad, in order of preference; default +-45, +-90, +-135, 180 deg) are tried on the spot, then at
        each of `spots` (free table positions (x, y), e.g. close to the arm where its wrist turns best; there
        without a turn first), until the arm can make one and a grasp of the turned object makes `then`
        reachable. When no single carry does, the object is carried to a spot and turned there in a second one.

        Returns:
            The total turn (rad) and the object's new position, or None when `then` was reachable without one.

        Raises:
            PlanningError: Neither one nor two carries help.
        """
        if self.can_grasp(arm, obj, then, contact_ids, pre_dis):
            return None
        here = obj.pose
        turns = np.deg2rad([45, -45, 90, -90, 135, -135, 180]) if turns is None else np.asarray(turns, float)
        spots = [np.array([*spot[:2], here.p[2]]) for spot in spots]

        def turned(position, turn: float, start: sapien.Pose = here) -> sapien.Pose:
            return sapien.Pose(position, (sapien.Pose(q=[np.cos(turn / 2), 0, 0, np.sin(turn / 2)]) * start).q)

        def set_down(pose: sapien.Pose) -> Placement:
            return Placement(pose, pre_dis=lift, dis=0.005, align=True, lift=lift, retreat=0.05, retreat_axis="up")

        def carry(pose: sapien.Pose) -> None:
            self.grasp(arm, obj, contact_ids, pre_dis, then=set_down(pose))
            self.place(arm, obj, set_down(pose))

        placeable: dict[tuple, bool] = {}

        def placeable_from(pose: sapien.Pose) -> bool:
            key = (*np.round(pose.p[:2], 3), *np.round(pose.q, 3))
            if key not in placeable:
                placeable[key] = self.can_grasp(arm, obj, then, contact_ids, pre_dis, obj_pose=pose)
            return placeable[key]

        one = [turned(here.p, t) for t in turns] + [turned(spot, t) for spot in spots for t in (0.0, *turns)]
        for pose in one:
            if placeable_from(pose) and self.can_grasp(arm, obj, set_down(pose), contact_ids, pre_dis):
                carry(pose)
                return _turn_between(here, pose), np.asarray(pose.p, float)
        for spot in spots:
            for first in (0.0, *turns):
                middle = turned(spot, first)
                if not self.can_grasp(arm, obj, set_down(middle), contact_ids, pre_dis):
                    continue
                for second in turns:
                    final = turned(spot, second, middle)
                    if placeable_from(final) and self.can_grasp(arm, obj, set_down(final), contact_ids, pre_dis,
                                                                obj_pose=middle):
                        carry(middle)
                        carry(final)
                        return _turn_between(here, final), np.asarray(final.p, float)
        raise PlanningError(f"{arm} arm cannot turn {obj.name} so that a grasp makes its placement reachable")

    def grasp_both(self, jobs: dict, grasp_pre=(0.1,), lift: float = 0.0) -> dict[str, Placement | None]:
        """RoboTwin's dual grasp: both arms grasp at once (in lockstep), then (with `lift`) rise together.

        Args:
            jobs: arm -> (object, then) or (object, then, contact_ids): what each arm grasps and the placement
                (or alternatives) the grasp must make reachable, as for `grasp`.
            grasp_pre: Approach distances tried in order for each arm (shorter ones where the wrist cannot reach
                that high above the object).
            lift: Height (m) both arms rise together after closing.

        Returns:
            arm -> the placement its grasp made reachable; when `lift` > 0, with its own lift removed (done).

        Raises:
            PlanningError: An arm finds no grasp at any of the distances.
        """
        chosen = {}
        with self.together():
            for arm, (obj, then, *ids) in jobs.items():
                chosen[arm] = self._grasp_from_first(arm, obj, ids[0] if ids else None, grasp_pre, then)
        if lift:
            with self.together():
                for arm in jobs:
                    self.move_by(arm, [0.0, 0.0, lift])
            chosen = {arm: None if p is None else dataclasses.replace(p, lift=0.0) for arm, p in chosen.items()}
        return chosen

    def place_checked(self, arm: str, obj: SimObject, placement: Placement, then: Then = None,
                      release: bool = True) -> Placement:
        """`place`, after re-checking `placement` from where the held `obj` really is (closing the fingers and
        carrying may have shifted it); when it is no longer reachable, the first reachable of `then`'s
        alternatives (without their lift) is carried out instead.

        Returns:
            The placement carried out.
        """
        options = [placement] + [dataclasses.replace(p, lift=0.0) for p in alternatives(then, self.tcp_pose(arm))]
        chosen = self.reachable_placement(arm, obj, options) or placement
        self.place(arm, obj, chosen, release=release)
        return chosen
