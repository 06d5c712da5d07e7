"""Shared motion primitives for scripted experts: grasp, place, move, press, handover, dual-arm moves.

Every task's expert is written with these; no task carries motion code of its own. A primitive plans from
the arm's commanded state with `ArmPlanner` and executes through `BimanualEnv.step`, so the expert produces
exactly the 14-dim actions a policy would, and they are recorded in `Motion.actions`.

Inside `with motion.together():` the primitives of both arms are queued and then executed in lockstep, phase
by phase (the shorter phase holds), which is how synchronous dual-arm motions are expressed.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sapien

from eva_bench.placement import Placement, Then, alternatives, retreat_pose
from eva_bench.sim.embodiment import ARMS, EmbodimentSpec, arm_slice, gripper_index
from eva_bench.sim.env import CONTROL_DT, BimanualEnv
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
        skip = set(self._own[arm]) | self._held[arm] | {getattr(e, "entity", e) for e in ignore}
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
        path = self.planners[arm].plan_to_qpos(self._q[arm], self.env.embodiment.home_qpos)
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
                    rank, chosen = self._first_reachable(arm, options, target, grasp, q_end)
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
        self, arm: str, alternatives: list[Placement], obj: SimObject, grasp: sapien.Pose, q: np.ndarray
    ) -> tuple[int, Placement | None]:
        """The first placement whose waypoints the arm reaches holding `obj` at `grasp` (rank, placement)."""
        planner = self.planners[arm]
        for rank, placement in enumerate(alternatives):
            poses = placement.tcp_poses(obj.pose, grasp)
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
        self._held[arm].add(obj.entity)
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
