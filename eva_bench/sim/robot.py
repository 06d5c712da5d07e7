"""Loading one arm into a SAPIEN scene and driving it: PD joint targets, gravity compensation, the gripper.

The controller only applies targets; deciding the targets (clipping to limits and speeds, interpolating within
a control step) is the environment's job (`eva_bench.sim.env`).
"""

from __future__ import annotations

import numpy as np
import sapien

from eva_bench.sim.embodiment import ARM_DOF, ArmSpec, MountSpec
from eva_bench.sim.urdf import FINGER_LINKS, FLANGE_LINK, TCP_LINK, ArmFiles

_FINGER_FRICTION = 1.5  # rubber pads: grasps hold by friction alone
_SQUEEZE = 0.01  # m: a closed gripper's finger target lies this far past the closed stop


class Arm:
    """One arm articulation in a scene with its PD drives.

    Args:
        scene: The scene to load into.
        files: Generated URDF/SRDF of the arm.
        spec: Arm limits and drive gains.
        mount: Where the arm stands.
        name: 'left' or 'right'.
        collision_id: A small integer unique per arm; links of one arm never collide with each other
            (primitive link shapes overlap at the joints), but do collide with the other arm and objects.
    """

    def __init__(
        self, scene: sapien.Scene, files: ArmFiles, spec: ArmSpec, mount: MountSpec, name: str, collision_id: int
    ) -> None:
        self.spec = spec
        self.name = name
        loader = scene.create_urdf_loader()
        loader.fix_root_link = True
        for finger in FINGER_LINKS:
            loader.set_link_material(finger, _FINGER_FRICTION, _FINGER_FRICTION, 0.0)
        self.articulation = loader.load(str(files.urdf), str(files.srdf))
        self.articulation.set_name(f"{name}_arm")
        self.articulation.set_root_pose(sapien.Pose(mount.xyz, mount.quaternion()))
        joints = self.articulation.get_active_joints()
        self._arm_joints = joints[:ARM_DOF]
        self._finger_joints = joints[ARM_DOF:]
        for joint in self._arm_joints:
            joint.set_drive_properties(spec.drive_stiffness, spec.drive_damping)
        for joint in self._finger_joints:
            joint.set_drive_properties(spec.gripper_stiffness, spec.gripper_damping, spec.gripper_force)
        links = {link.name: link for link in self.articulation.get_links()}
        for link in links.values():
            link.entity.name = f"{name}_{link.name}"
            for shape in link.get_collision_shapes():
                groups = shape.get_collision_groups()
                shape.set_collision_groups([groups[0], groups[1], groups[2] | 1, collision_id])
        self.flange = links[FLANGE_LINK]
        self.tcp = links[TCP_LINK]
        self.fingers = [links[f] for f in FINGER_LINKS]
        self.entities = {link.entity for link in links.values()}

    def finger_target(self, gripper: float) -> float:
        """Finger drive target (m) for a normalized gripper command (1 = open).

        Closed commands a target slightly past the closed stop, so a grasped object is squeezed with up to
        the drive's force limit.
        """
        g = float(np.clip(gripper, 0.0, 1.0))
        return -_SQUEEZE + g * (self.spec.finger_travel + _SQUEEZE)

    def gripper_for(self, finger: float) -> float:
        """The gripper command whose finger target is `finger` (m): the inverse of `finger_target`."""
        return (finger + _SQUEEZE) / (self.spec.finger_travel + _SQUEEZE)

    def reset(self, qpos: np.ndarray, gripper: float) -> None:
        """Teleport to `qpos` (6,) with the fingers at the commanded opening, at rest."""
        finger = float(np.clip(self.finger_target(gripper), 0.0, self.spec.finger_travel))
        full = np.concatenate([qpos, [finger, finger]])
        self.articulation.set_qpos(full)
        self.articulation.set_qvel(np.zeros_like(full))
        self.set_targets(qpos, np.zeros(ARM_DOF), gripper)

    def set_targets(self, qpos: np.ndarray, qvel: np.ndarray, gripper: float) -> None:
        """Set the PD position/velocity targets of the joints and the fingers."""
        for joint, target, velocity in zip(self._arm_joints, qpos, qvel, strict=True):
            joint.set_drive_target(float(target))
            joint.set_drive_velocity_target(float(velocity))
        finger = self.finger_target(gripper)
        for joint in self._finger_joints:
            joint.set_drive_target(finger)

    def compensate_passive_forces(self) -> None:
        """Cancel gravity and Coriolis forces so PD gains only fight tracking error (call every sub-step)."""
        self.articulation.set_qf(self.articulation.compute_passive_force(True, True))

    @property
    def qpos(self) -> np.ndarray:
        """Measured joint positions of the arm, (6,) rad."""
        return self.articulation.get_qpos()[:ARM_DOF]

