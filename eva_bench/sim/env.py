"""`BimanualEnv`: the table scene, two arms, the control loop, the success latch and observations.

Timing contract (`PHYSICS_HZ`, `SUBSTEPS`, `CONTROL_DT`, defined in `eva_bench.sim.embodiment` and re-exported
here): physics runs at 250 Hz; one control step (one 14-dim action) lasts 15 physics steps (60 ms,
16.7 Hz), which is also the frame rate of recorded videos. Within a step the joint targets move linearly from
the previous command to the new one, so the arms follow a continuous path. Every action is first clipped to
the joint limits and then to the joint speed limits (per control step), so the commanded targets the
observation reports are always reachable.

Success is evaluated after every physics sub-step and latched: once the task's condition holds at any instant,
the episode counts as solved, as in RoboTwin.

A fresh SAPIEN scene is built on every `reset`, so an episode's physics never depends on the episodes before it.

The env knows a task only through `eva_bench.sim.contract.SimTask` (construct, `load`, `check_success`); the
full task contract lives in `eva_bench.task`, which the simulator never imports.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from typing import TypeVar

import numpy as np
import sapien

from eva_bench.sim.cameras import CameraRig
from eva_bench.sim.contract import SimTask, TaskFactory
from eva_bench.sim.embodiment import (
    ACTION_DIM,
    ARMS,
    CONTROL_DT,
    PHYSICS_HZ,
    PIPER_BIMANUAL,
    SUBSTEPS,
    EmbodimentSpec,
    arm_slice,
    gripper_index,
)
from eva_bench.sim.robot import Arm
from eva_bench.sim.urdf import arm_files

log = logging.getLogger(__name__)
T = TypeVar("T", bound=SimTask)

__all__ = ["CONTROL_DT", "PHYSICS_HZ", "RENDER_DEVICE_ENV", "SUBSTEPS", "BimanualEnv", "UnstableSceneError"]

RENDER_DEVICE_ENV = "EVA_BENCH_RENDER_DEVICE"

_SETTLE_STEPS = 250  # physics steps objects get to come to rest after loading
_STABLE_STEPS = 100  # ... then they must not turn more than _STABLE_DEG over this many steps
_STABLE_DEG = 3.0


class UnstableSceneError(RuntimeError):
    """Objects kept moving after loading (RoboTwin's UnStableError): the seed is skipped."""


def _configure_physx() -> None:
    sapien.physx.set_default_material(0.5, 0.5, 0.0)
    sapien.physx.set_scene_config(enable_enhanced_determinism=True)
    sapien.physx.set_body_config(solver_position_iterations=20, solver_velocity_iterations=1)


class BimanualEnv:
    """The simulation of one task episode at a time.

    Args:
        embodiment: The robot and table spec.
        cameras: Camera name -> (width, height) to create; only these are ever rendered. Empty for
            physics-only use (scripted expert checks).
    """

    def __init__(
        self, embodiment: EmbodimentSpec = PIPER_BIMANUAL, cameras: Mapping[str, tuple[int, int]] | None = None
    ) -> None:
        self.embodiment = embodiment
        self.camera_requests = dict(cameras or {})
        self._files = arm_files(embodiment)
        self._lower = embodiment.action_lower()
        self._upper = embodiment.action_upper()
        self._max_step = embodiment.action_max_step(CONTROL_DT)
        self._velocity = np.zeros(ACTION_DIM)  # the drives' velocity feed-forward (see ArmSpec.feedforward_ema)
        self.scene: sapien.Scene | None = None
        self.workspace: set[sapien.Entity] = set()
        self.task: SimTask | None = None
        self.arms: dict[str, Arm] = {}
        self.rig: CameraRig | None = None
        self.command = embodiment.home_action()
        self.success = False
        self.steps = 0
        self.seed: int | None = None

    # ------------------------------------------------------------------ episode
    def reset(self, task_cls: TaskFactory[T], seed: int) -> T:
        """Build a fresh scene for `task_cls` randomized by `seed`; returns the task instance.

        `task_cls` is called as `task_cls(self, np.random.default_rng(seed))` (see `eva_bench.sim.contract`).

        Raises:
            UnstableSceneError: Objects did not come to rest (the seed should be skipped).
        """
        self.close()
        _configure_physx()
        scene = sapien.Scene([sapien.physx.PhysxCpuSystem(), _render_system()])
        scene.set_timestep(1.0 / PHYSICS_HZ)
        self.scene = scene
        _build_workspace(scene, self.embodiment)
        self.workspace = set(scene.get_entities())  # table, wall, pedestals: never task objects
        self.arms = {
            arm: Arm(scene, self._files, self.embodiment.arm, mount, arm, collision_id=i + 1)
            for i, (arm, mount) in enumerate(zip(ARMS, self.embodiment.mounts, strict=True))
        }
        self.command = self.embodiment.home_action()
        self._velocity = np.zeros(ACTION_DIM)
        for arm, controller in self.arms.items():
            controller.reset(self.command[arm_slice(arm)], self.command[gripper_index(arm)])
        self.seed = seed
        self.task = task_cls(self, np.random.default_rng(seed))
        self.task.load()
        self._settle()
        self.rig = CameraRig(scene, self.camera_requests, {a: c.flange.entity for a, c in self.arms.items()})
        self.success = False
        self.steps = 0
        return self.task

    def _settle(self) -> None:
        """Let dynamic objects come to rest; raise if they keep turning (unstable placement)."""
        bodies = []
        for entity in self.scene.get_entities():
            body = entity.find_component_by_type(sapien.physx.PhysxRigidDynamicComponent)
            if body is not None and not body.kinematic:
                bodies.append(entity)
        for _ in range(_SETTLE_STEPS):
            self._physics_step()
        before = [e.get_pose().q for e in bodies]
        for _ in range(_STABLE_STEPS):
            self._physics_step()
        for entity, q0 in zip(bodies, before, strict=True):
            angle = np.rad2deg(2 * np.arccos(min(1.0, abs(float(np.dot(q0, entity.get_pose().q))))))
            if angle > _STABLE_DEG:
                raise UnstableSceneError(f"{entity.name} turned {angle:.1f} deg while settling")

    def close(self) -> None:
        """Release the current scene."""
        self.rig = None
        self.task = None
        self.arms = {}
        self.workspace = set()
        self.scene = None

    # ------------------------------------------------------------------ control
    def clip_action(self, action) -> np.ndarray:
        """Clip `action` (14,) to the joint/gripper limits, then to the speed limits from the current command."""
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (ACTION_DIM,):
            raise ValueError(f"an action has {ACTION_DIM} values, got shape {np.shape(action)}")
        if not np.all(np.isfinite(action)):
            raise ValueError(f"action contains NaN or inf: {action}")
        target = np.clip(action, self._lower, self._upper)
        target = np.clip(target, self.command - self._max_step, self.command + self._max_step)
        # Commands are float32 (as stored in datasets), so a replayed action log reproduces a run exactly.
        return target.astype(np.float32)

    def step(self, action) -> bool:
        """Execute one control step; returns the latched success flag."""
        if self.scene is None:
            raise RuntimeError("call reset() before step()")
        target = self.clip_action(action).astype(np.float64)
        start = self.command.astype(np.float64)
        weight = self.embodiment.arm.feedforward_ema
        self._velocity = weight * (target - start) / CONTROL_DT + (1.0 - weight) * self._velocity
        velocity = self._velocity
        self.steps += 1
        for k in range(1, SUBSTEPS + 1):
            now = start + (target - start) * (k / SUBSTEPS)
            for arm, controller in self.arms.items():
                joints = arm_slice(arm)
                controller.set_targets(now[joints], velocity[joints], now[gripper_index(arm)])
            self._physics_step()
            if not self.success and self.task.check_success():
                self.success = True
        self.command = target.astype(np.float32)
        return self.success

    def _physics_step(self) -> None:
        for controller in self.arms.values():
            controller.compensate_passive_forces()
        self.scene.step()

    # ------------------------------------------------------------------ queries used by tasks
    def gripper_command(self, arm: str) -> float:
        """The commanded (not measured) gripper value of `arm`, as RoboTwin's success checks use it."""
        return float(self.command[gripper_index(arm)])

    def gripper_open(self, arm: str) -> bool:
        """RoboTwin's `is_gripper_open`: commanded value above 0.8."""
        return self.gripper_command(arm) > 0.8

    def gripper_closed(self, arm: str) -> bool:
        """RoboTwin's `is_gripper_close`: commanded value below 0.2."""
        return self.gripper_command(arm) < 0.2

    def contacts(self, entity: sapien.Entity, others: Iterable[sapien.Entity]) -> list[np.ndarray]:
        """World positions of the contact points between `entity` and any entity in `others`."""
        others = set(others)
        points = []
        for contact in self.scene.get_contacts():
            a, b = contact.bodies[0].entity, contact.bodies[1].entity
            if (a is entity and b in others) or (b is entity and a in others):
                points.extend(p.position for p in contact.points if p.separation < 0.002)
        return points

    def gripper_entities(self, arm: str | None = None) -> set[sapien.Entity]:
        """The entities of the flange and fingers of `arm` (both arms if None)."""
        arms = ARMS if arm is None else (arm,)
        return {link.entity for a in arms for link in (self.arms[a].flange, *self.arms[a].fingers)}

    def tcp_pose(self, arm: str) -> sapien.Pose:
        """Measured world pose of `arm`'s tool centre point."""
        return self.arms[arm].tcp.entity.get_pose()

    # ------------------------------------------------------------------ observation
    def get_obs(self, cameras: Iterable[str] | None = None, robot_masks: Iterable[str] = ()) -> dict:
        """The observation in RoboTwin's layout, rendering only `cameras` (default: all created ones); the
        cameras in `robot_masks` also give "robot_mask", the (H, W) bool pixels of both arms' links."""
        vector = self.command.astype(np.float32).copy()
        obs: dict = {
            "observation": {},
            "joint_action": {
                "left_arm": vector[arm_slice("left")].copy(),
                "left_gripper": float(vector[gripper_index("left")]),
                "right_arm": vector[arm_slice("right")].copy(),
                "right_gripper": float(vector[gripper_index("right")]),
                "vector": vector,
            },
            "endpose": {},
            "instruction": "",
        }
        for arm in ARMS:
            pose = self.tcp_pose(arm)
            obs["endpose"][f"{arm}_endpose"] = np.concatenate([pose.p, pose.q]).astype(np.float32)
            obs["endpose"][f"{arm}_gripper"] = self.gripper_command(arm)
        names = list(cameras) if cameras is not None else self.rig.names
        if names:
            self.scene.update_render()
            masked = set(robot_masks)
            ids = [link.entity.per_scene_id for c in self.arms.values() for link in c.articulation.get_links()] \
                if masked else []
            obs["observation"] = self.rig.capture(names, masked, ids)
        return obs

    def render(self, camera: str) -> np.ndarray:
        """One RGB frame (H, W, 3) uint8 of `camera`."""
        return self.get_obs([camera])["observation"][camera]["rgb"]

    def arm_qpos(self, arm: str) -> np.ndarray:
        """Commanded joint targets of `arm`, (6,)."""
        return self.command[arm_slice(arm)].astype(np.float64)


def _render_system() -> sapien.render.RenderSystem:
    """The render system on the device named by EVA_BENCH_RENDER_DEVICE, else SAPIEN's first device."""
    device = os.environ.get(RENDER_DEVICE_ENV)
    return sapien.render.RenderSystem(sapien.Device(device)) if device else sapien.render.RenderSystem()


def _build_workspace(scene: sapien.Scene, spec: EmbodimentSpec) -> None:
    """Table, wall, arm pedestals and lights (RoboTwin's layout and light setup)."""
    scene.set_ambient_light([0.5, 0.5, 0.5])
    scene.add_directional_light([0, 0.5, -1], [0.5, 0.5, 0.5], shadow=True)
    scene.add_point_light([1, 0, 1.8], [1, 1, 1], shadow=False)
    scene.add_point_light([-1, 0, 1.8], [1, 1, 1], shadow=False)
    scene.add_ground(0.0, render=False)

    def static_box(name, half, centre, colour) -> None:
        builder = scene.create_actor_builder()
        builder.add_box_collision(half_size=half)
        material = sapien.render.RenderMaterial(base_color=[*colour, 1.0])
        builder.add_box_visual(half_size=half, material=material)
        builder.set_initial_pose(sapien.Pose(centre))
        builder.build_static(name)

    sx, sy = spec.table_size
    top, thick = spec.table_height, spec.table_thickness
    static_box("table", [sx / 2, sy / 2, thick / 2], [0, 0, top - thick / 2], (0.78, 0.74, 0.70))
    for x in (-sx / 2 + 0.05, sx / 2 - 0.05):
        for y in (-sy / 2 + 0.05, sy / 2 - 0.05):
            static_box("table_leg", [0.025, 0.025, (top - thick) / 2], [x, y, (top - thick) / 2], (0.4, 0.4, 0.4))
    static_box("wall", [3, 0.6, 1.5], [0, 1, 1.5], (1.0, 0.9, 0.9))
    for mount in spec.mounts:
        x, y, z = mount.xyz
        static_box("pedestal", [0.06, 0.06, z / 2], [x, y, z / 2], (0.3, 0.3, 0.32))

