"""Deterministic motion planning for one arm, built on mplib (kinematics, collision checking, RRT).

`ArmPlanner` answers three questions for a scripted expert: which joint configuration puts the TCP at a pose
(`ik`), how to get there in joint space without hitting the table (`plan_to_qpos`), and how to move the TCP along
a straight line (`plan_line`). Every path is retimed with TOPP-RA under the embodiment's speed and acceleration
limits (scaled by `speed_scale`) and sampled at the control interval, so one waypoint is one control action.

Everything here is deterministic: IK starts from the current configuration and then from a fixed list of seeds,
and the RRT fallback draws from a generator seeded by the query itself (`eva_bench.sim.rrt`). An expert that
fails raises `PlanningError`; the caller decides what that means (an unsolvable seed).
"""

from __future__ import annotations

import hashlib
import logging

import mplib
import numpy as np
import sapien
import toppra
import toppra.algorithm as toppra_algo
import toppra.constraint as toppra_constraint
from mplib.collision_detection import fcl

from eva_bench.sim.embodiment import ARM_DOF, ARMS, MIRROR, EmbodimentSpec, MountSpec
from eva_bench.sim.poses import flip_about_x, interpolate, rotation_angle
from eva_bench.sim.rrt import rrt_connect
from eva_bench.sim.urdf import TCP_LINK, ArmFiles

log = logging.getLogger(__name__)
logging.getLogger("toppra").setLevel(logging.ERROR)


_IK_SEEDS = 12
# A posture reaching over the table (the 0.4 home pose, left arm; mirrored for the right): the home pose is
# held up out of the workspace for the camera, so IK also starts from a posture near the table.
_REACH_SEED_DEG = (0.0, 75.0, -70.0, 0.0, 55.0, 0.0)
_CLIK_ITERATIONS = 300
_LINE_STEP = 0.01  # m between IK waypoints along a straight line
_LINE_ANGLE_STEP = 0.05  # rad between IK waypoints of a rotation
_MAX_JOINT_JUMP = 0.25  # rad between neighbouring line waypoints; more means a flip through a singularity
_COLLISION_STEP = 0.03  # rad between collision checks along a joint-space segment
_CLEARANCE = 0.01  # m kept between the arm and scene objects
_SPLINE_SPACING = 0.02  # rad between knots when a multi-waypoint path is splined for retiming


_Z_TO_X = sapien.Pose(q=[np.sqrt(0.5), 0.0, np.sqrt(0.5), 0.0])  # FCL cylinders/capsules run along z, SAPIEN's x


def _fcl_shapes(entity: sapien.Entity, margin: float = 0.0) -> tuple[list, list]:
    """FCL collision objects and their world poses for the primitive collision shapes of `entity`, each grown
    by `margin` (m) on every side."""
    body = entity.find_component_by_type(sapien.physx.PhysxRigidBaseComponent)
    if body is None:
        return [], []
    shapes, poses = [], []
    for shape in body.get_collision_shapes():
        pose = entity.get_pose() * shape.get_local_pose()
        if isinstance(shape, sapien.physx.PhysxCollisionShapeBox):
            geometry = fcl.Box(2 * (np.asarray(shape.get_half_size(), float) + margin))
        elif isinstance(shape, sapien.physx.PhysxCollisionShapeSphere):
            geometry = fcl.Sphere(shape.get_radius() + margin)
        elif isinstance(shape, sapien.physx.PhysxCollisionShapeCylinder):
            radius, length = shape.get_radius() + margin, 2 * (shape.get_half_length() + margin)
            geometry, pose = fcl.Cylinder(radius, length), pose * _Z_TO_X
        elif isinstance(shape, sapien.physx.PhysxCollisionShapeCapsule):
            radius, length = shape.get_radius() + margin, 2 * shape.get_half_length()
            geometry, pose = fcl.Capsule(radius, length), pose * _Z_TO_X
        else:
            continue  # meshes are not used by our procedural objects
        shapes.append(fcl.CollisionObject(geometry))
        poses.append(mplib.Pose(pose.p, pose.q))
    return shapes, poses


def _densify(path: np.ndarray, spacing: float) -> np.ndarray:
    """The polyline through `path` (K, D) resampled so neighbouring points are at most `spacing` apart."""
    points = [path[0]]
    for a, b in zip(path[:-1], path[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / spacing)))
        points.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
    return np.asarray(points)


def _query_seed(start: np.ndarray, goal: np.ndarray) -> int:
    """A seed that depends on the planning query only (not on what the process planned before)."""
    digest = hashlib.sha256(np.round(np.concatenate([start, goal]), 6).tobytes()).digest()
    return int.from_bytes(digest[:8], "little")


class PlanningError(RuntimeError):
    """The expert could not find a feasible motion (IK, collision or a line through a singularity)."""


class ArmPlanner:
    """IK and collision-aware planning for one arm of an embodiment.

    Args:
        spec: The embodiment (limits, speeds, table).
        mount: This arm's mounting plate.
        files: The generated URDF/SRDF of one arm.
        control_dt: Control interval in seconds; planned paths are sampled at this rate.
        speed_scale: Fraction of the joint speed/acceleration limits an expert uses.
    """

    def __init__(
        self,
        spec: EmbodimentSpec,
        mount: MountSpec,
        files: ArmFiles,
        control_dt: float,
        speed_scale: float = 0.5,
    ) -> None:
        self.spec = spec
        self.control_dt = control_dt
        self.vmax = spec.arm.max_speed * speed_scale
        self.amax = spec.arm.max_accel * speed_scale
        self._mp = mplib.Planner(
            urdf=str(files.urdf),
            srdf=str(files.srdf),
            move_group=TCP_LINK,
            joint_vel_limits=self.vmax,
            joint_acc_limits=self.amax,
        )
        self._mp.set_base_pose(mplib.Pose(mount.xyz, mount.quaternion()))
        self._add_table(spec)
        self._obstacle_names: list[str] = []
        self._lower, self._upper = spec.arm.lower, spec.arm.upper
        self._fingers = np.full(2, spec.arm.finger_travel)
        self._mask = [False] * ARM_DOF + [True, True]
        rng = np.random.default_rng(20240601)
        arm = ARMS[list(spec.mounts).index(mount)]
        reach = np.deg2rad(_REACH_SEED_DEG) * (1.0 if arm == "left" else MIRROR)
        self._seeds = [spec.home_qpos(arm), reach] + [rng.uniform(self._lower, self._upper) for _ in range(_IK_SEEDS)]
        self._base = sapien.Pose(mount.xyz, mount.quaternion())

    def _add_table(self, spec: EmbodimentSpec) -> None:
        sx, sy = spec.table_size
        # The table plus a 5 mm safety layer on top: planned paths keep the arm off the surface.
        half = np.array([sx / 2, sy / 2, spec.table_thickness / 2 + 0.0025])
        centre = [0.0, 0.0, spec.table_height - spec.table_thickness / 2 + 0.0025]
        obj = fcl.FCLObject("table", mplib.Pose(centre, [1, 0, 0, 0]), [fcl.CollisionObject(fcl.Box(2 * half))],
                            [mplib.Pose()])
        self._mp.planning_world.add_object(obj)

    def set_obstacles(self, entities) -> None:
        """Make the planner avoid `entities` (SAPIEN entities, at their current poses) besides the table.

        Replaces the previous set. Boxes, cylinders, spheres and capsules are converted exactly, then grown by
        a clearance that absorbs tracking error and contact offsets.
        """
        world = self._mp.planning_world
        for name in self._obstacle_names:
            world.remove_object(name)
        self._obstacle_names = []
        for index, entity in enumerate(entities):
            shapes, poses = _fcl_shapes(entity, _CLEARANCE)
            if shapes:
                name = f"obstacle_{index}_{entity.name}"
                world.add_object(fcl.FCLObject(name, mplib.Pose(), shapes, poses))
                self._obstacle_names.append(name)

    # ---------------------------------------------------------------- kinematics
    def _full(self, qpos: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(qpos, float)[:ARM_DOF], self._fingers])

    def fk(self, qpos: np.ndarray) -> sapien.Pose:
        """World pose of the TCP at joint configuration `qpos` (6,)."""
        model = self._mp.pinocchio_model
        model.compute_forward_kinematics(self._full(qpos))
        local = model.get_link_pose(self._mp.move_group_link_id)
        return self._base * sapien.Pose(local.p, local.q)

    def in_collision(self, qpos: np.ndarray) -> bool:
        """Whether the arm at `qpos`, fingers open (the widest gripper), hits itself, the table or an obstacle."""
        self._mp.robot.set_qpos(self._full(qpos), True)
        return len(self._mp.planning_world.check_collision()) > 0

    def _within_limits(self, qpos: np.ndarray) -> bool:
        return bool(np.all(qpos >= self._lower - 1e-6) and np.all(qpos <= self._upper + 1e-6))

    def _wrap(self, qpos: np.ndarray) -> np.ndarray:
        """Shift each revolute joint by whole turns into its limits where possible (CLIK ignores limits)."""
        turns = np.round((np.clip(qpos, self._lower, self._upper) - qpos) / (2 * np.pi))
        return qpos + 2 * np.pi * turns

    def ik(self, pose: sapien.Pose, start: np.ndarray, symmetric: bool = True) -> np.ndarray:
        """A collision-free configuration (6,) placing the TCP at `pose`, closest to `start`.

        Args:
            pose: Target TCP pose in the world frame.
            start: Current configuration, (6,) rad; the answer is the solution nearest to it.
            symmetric: Also accept the pose turned 180 deg about the approach axis (a parallel gripper
                grasps the same way either side up).

        Raises:
            PlanningError: No solution within the joint limits and free of collision.
        """
        targets = [pose, flip_about_x(pose)] if symmetric else [pose]
        model = self._mp.pinocchio_model
        best, best_cost = None, np.inf
        for target in targets:
            local = self._base.inv() * target
            goal = mplib.Pose(local.p, local.q)
            for seed in [np.asarray(start, float), *self._seeds]:
                qpos, ok, _ = model.compute_IK_CLIK(
                    self._mp.move_group_link_id, goal, self._full(seed), self._mask, max_iter=_CLIK_ITERATIONS
                )
                qpos = self._wrap(qpos[:ARM_DOF])
                if not ok or not self._within_limits(qpos) or self.in_collision(qpos):
                    continue
                # Weight the base joints more: prefer solutions that keep the arm's posture.
                cost = float(np.sum(np.array([2, 2, 2, 1, 1, 1]) * np.abs(qpos - start)))
                if cost < best_cost:
                    best, best_cost = np.clip(qpos, self._lower, self._upper), cost
                if seed is not None and np.allclose(seed, start) and ok:
                    break  # a solution reached from the current posture is the natural one
        if best is None:
            raise PlanningError(f"no IK solution for TCP at {np.round(pose.p, 3)}")
        return best

    # ---------------------------------------------------------------- paths
    def _segment_free(self, a: np.ndarray, b: np.ndarray) -> bool:
        n = max(2, int(np.ceil(np.max(np.abs(b - a)) / _COLLISION_STEP)) + 1)
        return not any(self.in_collision(a + (b - a) * t) for t in np.linspace(0, 1, n)[1:])

    def plan_to_qpos(self, start: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """A timed joint path (N, 6) from `start` to `goal`: straight in joint space, RRT if that collides."""
        start, goal = np.asarray(start, float), np.asarray(goal, float)
        if np.allclose(start, goal, atol=1e-5):
            return goal[None].copy()
        if self._segment_free(start, goal):
            return self.retime(np.stack([start, goal]))
        if self.in_collision(goal) or self.in_collision(start):
            raise PlanningError("the start or goal configuration collides")
        is_free = lambda q: not self.in_collision(q)  # noqa: E731
        rng = np.random.default_rng(_query_seed(start, goal))
        path = rrt_connect(start, goal, is_free, self._lower, self._upper, rng, resolution=_COLLISION_STEP)
        if path is None:
            raise PlanningError("no collision-free joint path (RRT-Connect gave up)")
        return self.retime(np.stack(path))

    def plan_to_pose(self, start: np.ndarray, pose: sapien.Pose, symmetric: bool = True) -> np.ndarray:
        """A timed joint path (N, 6) that brings the TCP to `pose` (any collision-free route)."""
        return self.plan_to_qpos(start, self.ik(pose, start, symmetric))

    def plan_line(self, start: np.ndarray, pose: sapien.Pose) -> np.ndarray:
        """A timed joint path (N, 6) moving the TCP along a straight line (slerped rotation) to `pose`.

        Raises:
            PlanningError: A waypoint has no IK solution, the line passes a singularity, or it collides.
        """
        start = np.asarray(start, float)
        begin = self.fk(start)
        steps = max(
            1,
            int(np.ceil(np.linalg.norm(pose.p - begin.p) / _LINE_STEP)),
            int(np.ceil(rotation_angle(begin, pose) / _LINE_ANGLE_STEP)),
        )
        model = self._mp.pinocchio_model
        path = [start]
        for t in np.linspace(0, 1, steps + 1)[1:]:
            local = self._base.inv() * interpolate(begin, pose, float(t))
            qpos, ok, _ = model.compute_IK_CLIK(
                self._mp.move_group_link_id, mplib.Pose(local.p, local.q), self._full(path[-1]), self._mask
            )
            qpos = self._wrap(qpos[:ARM_DOF])
            if not ok or not self._within_limits(qpos):
                raise PlanningError(f"straight line to {np.round(pose.p, 3)} leaves the workspace")
            if np.max(np.abs(qpos - path[-1])) > _MAX_JOINT_JUMP:
                raise PlanningError(f"straight line to {np.round(pose.p, 3)} passes a singularity")
            if self.in_collision(qpos):
                raise PlanningError(f"straight line to {np.round(pose.p, 3)} collides")
            path.append(qpos)
        return self.retime(np.stack(path))

    def retime(self, path: np.ndarray) -> np.ndarray:
        """Time-parameterize waypoints (K, 6) under the speed/acceleration limits; sample at the control rate.

        Returns:
            (N, 6) positions, one per control step, ending exactly at the last waypoint; the first waypoint
            (the current configuration) is not repeated.
        """
        path = np.asarray(path, float)
        keep = np.concatenate([[True], np.any(np.abs(np.diff(path, axis=0)) > 1e-7, axis=1)])
        path = path[keep]
        if len(path) == 1:
            return path.copy()
        if len(path) > 2:
            path = _densify(path, _SPLINE_SPACING)  # keeps the cubic spline on the collision-checked polyline
        knots = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
        spline = toppra.SplineInterpolator(knots / knots[-1], path)
        instance = toppra_algo.TOPPRA(
            [toppra_constraint.JointVelocityConstraint(self.vmax),
             toppra_constraint.JointAccelerationConstraint(self.amax)],
            spline,
            parametrizer="ParametrizeConstAccel",
        )
        trajectory = instance.compute_trajectory()
        if trajectory is None:  # TOPP-RA can fail on badly conditioned paths; a slower profile always works
            return self._retime_trapezoid(path)
        n = max(1, int(np.ceil(trajectory.duration / self.control_dt)))
        times = np.minimum(np.arange(1, n + 1) * self.control_dt, trajectory.duration)
        samples = np.asarray(trajectory(times))
        samples[-1] = path[-1]
        return np.clip(samples, self._lower, self._upper)

    def _retime_trapezoid(self, path: np.ndarray) -> np.ndarray:
        """Piecewise-linear path at a trapezoidal speed along its max-norm arc length (every joint within
        the slowest joint's speed and acceleration limits)."""
        s = np.concatenate([[0.0], np.cumsum(np.max(np.abs(np.diff(path, axis=0)), axis=1))])
        vmax, amax, length = float(np.min(self.vmax)), float(np.min(self.amax)), float(s[-1])
        ramp = min(vmax / amax, np.sqrt(length / amax))  # time to reach cruise speed (or the apex)
        cruise = max(0.0, (length - amax * ramp**2) / (amax * ramp)) if ramp > 0 else 0.0
        duration = 2 * ramp + cruise
        n = max(1, int(np.ceil(duration / self.control_dt)))
        times = np.minimum(np.arange(1, n + 1) * self.control_dt, duration)
        peak = amax * ramp
        along = np.where(
            times < ramp,
            0.5 * amax * times**2,
            np.where(
                times < ramp + cruise,
                0.5 * amax * ramp**2 + peak * (times - ramp),
                length - 0.5 * amax * np.maximum(duration - times, 0.0) ** 2,
            ),
        )
        samples = np.stack([np.interp(along, s, path[:, j]) for j in range(path.shape[1])], axis=1)
        samples[-1] = path[-1]
        return np.clip(samples, self._lower, self._upper)
