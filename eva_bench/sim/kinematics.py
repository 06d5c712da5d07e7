"""Forward kinematics of the generated arm in numpy: where the tool centre point is for given joint angles.

The chain mirrors `eva_bench.sim.urdf.arm_urdf` joint by joint (offsets and axes from the same spec), so metrics
such as an IDM's tip error in centimetres need neither SAPIEN nor a planner. `tests/test_kinematics.py` checks
it against the simulator's TCP link.
"""

from __future__ import annotations

import numpy as np

from eva_bench.sim.embodiment import ARM_DOF, ARMS, PIPER_BIMANUAL, EmbodimentSpec, arm_slice

_AXES = ((0, 0, 1), (0, 1, 0), (0, 1, 0), (1, 0, 0), (0, 1, 0), (1, 0, 0))  # J1..J6, as in the URDF
_FOREARM_FIRST = 0.12  # J3 -> J4 distance (`urdf.arm_urdf`'s fa1)


def _rotations(axis, angles: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations by `angles` (N,) about the unit `axis`."""
    x, y, z = axis
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]], float)
    s, c = np.sin(angles)[:, None, None], np.cos(angles)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def joint_offsets(spec: EmbodimentSpec = PIPER_BIMANUAL) -> np.ndarray:
    """(7, 3): the origin of J1..J6 in its parent link's frame, then the TCP in the flange frame (m)."""
    arm = spec.arm
    return np.array([
        (0, 0, 0.04),
        (0, 0, arm.shoulder_height - 0.04),
        (-arm.upper_arm, 0, 0),
        (_FOREARM_FIRST, 0, 0),
        (arm.forearm - _FOREARM_FIRST, 0, 0),
        (arm.wrist, 0, 0),
        (arm.tcp_offset, 0, 0),
    ], float)


def tcp_positions(qpos: np.ndarray, arm: str, spec: EmbodimentSpec = PIPER_BIMANUAL) -> np.ndarray:
    """World positions (N, 3) of `arm`'s TCP for joint angles `qpos` (N, 6) rad (or (6,) -> (3,))."""
    q = np.atleast_2d(np.asarray(qpos, float))
    if q.shape[1] != ARM_DOF:
        raise ValueError(f"qpos needs {ARM_DOF} joint angles per row, got shape {np.shape(qpos)}")
    mount = spec.mounts[ARMS.index(arm)]
    yaw = np.deg2rad(mount.yaw_deg)
    rotation = np.repeat(_rotations((0, 0, 1), np.array([yaw]))[0][None], len(q), 0)
    position = np.repeat(np.asarray(mount.xyz, float)[None], len(q), 0)
    offsets = joint_offsets(spec)
    for j in range(ARM_DOF):
        position = position + rotation @ offsets[j]
        rotation = rotation @ _rotations(_AXES[j], q[:, j])
    position = position + rotation @ offsets[ARM_DOF]
    return position[0] if np.ndim(qpos) == 1 else position


def tip_errors(predicted: np.ndarray, target: np.ndarray, spec: EmbodimentSpec = PIPER_BIMANUAL) -> np.ndarray:
    """Distance (N, 2) in metres between the TCPs of predicted and true 14-dim actions (N, 14), left and right."""
    predicted, target = np.atleast_2d(predicted), np.atleast_2d(target)
    columns = []
    for a in ARMS:
        offset = tcp_positions(predicted[:, arm_slice(a)], a, spec) - tcp_positions(target[:, arm_slice(a)], a, spec)
        columns.append(np.linalg.norm(offset, axis=1))
    return np.stack(columns, axis=1)
