"""The bimanual Piper-like embodiment: one typed spec that everything else reads.

The spec is the single source of truth for joint limits, speeds, link lengths, drive gains, gripper range and
arm mounting. The URDF/SRDF generator (`eva_bench.sim.urdf`), the controller (`eva_bench.sim.robot`), the
motion planner (`eva_bench.sim.planner`) and, later, the executability reward all read it; none of them keeps
numbers of its own.

Kinematic convention of one arm (arm frame: x forward, y left, z up, origin at the mounting plate):
    J1 yaws about z. J2 pitches the upper arm about y: at q2 = 0 the upper arm points backward, at 90 deg it
    points up, at 180 deg forward. J3 is the elbow: at q3 = 0 the forearm is folded back onto the upper arm,
    at -175 deg it is nearly straight. J4 rolls the forearm, J5 pitches the wrist, J6 rolls the flange.
    The gripper's two fingers slide along the flange's y axis; the tool centre point (TCP) lies `tcp_offset`
    ahead of the flange along its x axis (the approach direction).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

ARM_DOF = 6
ACTION_DIM = 14  # [left j1..j6, left gripper, right j1..j6, right gripper]
ARMS = ("left", "right")

# Timing of the controller contract: physics runs at PHYSICS_HZ; one control step (one 14-dim action) lasts
# SUBSTEPS physics steps, so actions (and recorded video frames) come every CONTROL_DT seconds (60 ms, 16.7 Hz).
# The speed limits per action (`EmbodimentSpec.action_max_step`) and the reward's finite differences use it.
PHYSICS_HZ = 250
SUBSTEPS = 15
CONTROL_DT = SUBSTEPS / PHYSICS_HZ  # 0.06 s
# The right arm mirrors the left through the robot's midplane: yaw and roll joints change sign, pitches do not.
MIRROR = np.array([-1.0, 1.0, 1.0, -1.0, 1.0, -1.0])  # left-arm joints -> the mirrored right-arm pose


@dataclass(frozen=True)
class JointSpec:
    """One revolute arm joint.

    Args:
        lower_deg: Lower position limit in degrees.
        upper_deg: Upper position limit in degrees.
        max_speed_deg: Maximum speed in degrees per second (AgileX PiPER, paper Table S3).
    """

    lower_deg: float
    upper_deg: float
    max_speed_deg: float

    def __post_init__(self) -> None:
        if not self.lower_deg < self.upper_deg:
            raise ValueError(f"joint limits must satisfy lower < upper, got {self.lower_deg}, {self.upper_deg}")
        if self.max_speed_deg <= 0:
            raise ValueError(f"max_speed_deg must be positive, got {self.max_speed_deg}")


@dataclass(frozen=True)
class ArmSpec:
    """Geometry, limits and drives of one 6-DoF arm with a parallel gripper (lengths in metres).

    Args:
        joints: The six joints J1..J6.
        shoulder_height: Height of the J2 axis above the mounting plate.
        upper_arm: J2 to J3 distance.
        forearm: J3 to J5 distance (J4 rolls about this segment).
        wrist: J5 to flange distance.
        tcp_offset: Flange to tool centre point, along the approach axis.
        finger_travel: Travel of each finger; the opening between the pads is twice this (0-70 mm).
        finger_length: Length of a finger pad along the approach axis.
        link_mass: Mass of each arm link in kg.
        drive_stiffness: PD stiffness of the arm joints (N m / rad).
        drive_damping: PD damping of the arm joints (N m s / rad).
        gripper_stiffness: PD stiffness of each finger (N / m).
        gripper_damping: PD damping of each finger (N s / m).
        gripper_force: Force limit of each finger drive in N (PiPER rated clamping force).
        gripper_speed: Maximum change of the normalized gripper command per second (1 = full stroke).
        accel_factor: Joint acceleration limit as a multiple of the speed limit, per second. Table S3 gives no
            acceleration limit; this is our assumption, used by the planner and the reward.
        feedforward_ema: Weight of the newest control step in the joints' velocity feed-forward, an exponential
            average of the commanded velocity (new - old target) / step: 1 passes each step's velocity straight
            to the stiff drives, 0 switches the feed-forward off (the drives then lag by damping / stiffness).
    """

    joints: tuple[JointSpec, ...] = (
        JointSpec(-154.0, 154.0, 180.0),
        JointSpec(0.0, 195.0, 195.0),
        JointSpec(-175.0, 0.0, 180.0),
        JointSpec(-106.0, 106.0, 225.0),
        JointSpec(-75.0, 75.0, 225.0),
        JointSpec(-100.0, 100.0, 225.0),
    )
    shoulder_height: float = 0.123
    upper_arm: float = 0.285
    forearm: float = 0.25
    wrist: float = 0.091
    tcp_offset: float = 0.115
    finger_travel: float = 0.035
    finger_length: float = 0.05
    link_mass: float = 0.6
    drive_stiffness: float = 2000.0
    drive_damping: float = 200.0
    gripper_stiffness: float = 3000.0
    gripper_damping: float = 60.0
    gripper_force: float = 40.0
    gripper_speed: float = 2.0
    accel_factor: float = 2.0
    # Half of each step's velocity reaches the drives: 0.02 rad jitter no longer kicks a held object loose
    # (docs/robustness.md: expert under i.i.d. 0.02 rad noise 53% -> 80% on the 9 weakest tasks) while smooth
    # motions are still tracked within 0.01 rad on average (0: 0.075 rad of lag).
    feedforward_ema: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.feedforward_ema <= 1.0:
            raise ValueError(f"feedforward_ema must lie in [0, 1], got {self.feedforward_ema}")
        if len(self.joints) != ARM_DOF:
            raise ValueError(f"an arm has {ARM_DOF} joints, got {len(self.joints)}")

    @property
    def lower(self) -> np.ndarray:
        """Lower joint limits, (6,) rad."""
        return np.deg2rad([j.lower_deg for j in self.joints])

    @property
    def upper(self) -> np.ndarray:
        """Upper joint limits, (6,) rad."""
        return np.deg2rad([j.upper_deg for j in self.joints])

    @property
    def max_speed(self) -> np.ndarray:
        """Joint speed limits, (6,) rad/s."""
        return np.deg2rad([j.max_speed_deg for j in self.joints])

    @property
    def max_accel(self) -> np.ndarray:
        """Joint acceleration limits, (6,) rad/s^2."""
        return self.max_speed * self.accel_factor

    @property
    def reach(self) -> float:
        """Shoulder (J2) to flange distance with the arm stretched, in metres."""
        return self.upper_arm + self.forearm + self.wrist


@dataclass(frozen=True)
class MountSpec:
    """Where an arm's mounting plate sits in the world.

    Args:
        xyz: Position of the mounting plate in the world frame (m).
        yaw_deg: Rotation about world z; 90 makes the arm's forward (x) axis point along world +y.
    """

    xyz: tuple[float, float, float]
    yaw_deg: float = 90.0

    def quaternion(self) -> np.ndarray:
        """The mount orientation as a wxyz quaternion."""
        half = math.radians(self.yaw_deg) / 2
        return np.array([math.cos(half), 0.0, 0.0, math.sin(half)])


@dataclass(frozen=True)
class EmbodimentSpec:
    """A dual-arm robot at a table.

    Args:
        name: Identifier stored with datasets and results.
        arm: The spec shared by both arms.
        mounts: Left and right mounting plates.
        home_deg: Initial joint positions of the left arm in degrees; the right arm's is its mirror image
            (J1, J4 and J6 negated). A pose with both grippers and forearms in the head camera's view that
            hides none of the task objects (measured by `eva-bench tasks visibility`).
        table_size: Table top extent (x, y) in metres.
        table_height: Height of the table top (m).
        table_thickness: Thickness of the table top (m).
    """

    name: str = "piper-bimanual"
    arm: ArmSpec = field(default_factory=ArmSpec)
    mounts: tuple[MountSpec, MountSpec] = (
        MountSpec((-0.30, -0.42, 0.74)),
        MountSpec((0.30, -0.42, 0.74)),
    )
    # Upper arm raised forward, forearm folded back, turned 15 deg inward, wrist pitched down: both grippers and
    # about 30% of each forearm in the head camera's view, the TCPs 28 cm above the table at x = +-0.18.
    home_deg: tuple[float, ...] = (-15.0, 105.0, -115.0, 0.0, 60.0, 0.0)
    table_size: tuple[float, float] = (1.2, 0.7)
    table_height: float = 0.74
    table_thickness: float = 0.05

    def __post_init__(self) -> None:
        home = np.deg2rad(self.home_deg)
        if len(home) != ARM_DOF or np.any(np.minimum(home, home * MIRROR) < self.arm.lower) \
                or np.any(np.maximum(home, home * MIRROR) > self.arm.upper):
            raise ValueError(f"home_deg {self.home_deg} must hold {ARM_DOF} values within the joint limits")

    def home_qpos(self, arm: str = "left") -> np.ndarray:
        """Initial joint targets of `arm`, (6,) rad: `home_deg` for the left arm, its mirror for the right."""
        if arm not in ARMS:
            raise ValueError(f"arm must be one of {ARMS}, got {arm!r}")
        home = np.deg2rad(self.home_deg)
        return home if arm == "left" else home * MIRROR

    def home_action(self) -> np.ndarray:
        """The initial 14-dim action: both arms at home, both grippers open."""
        return np.concatenate([self.home_qpos("left"), [1.0], self.home_qpos("right"), [1.0]]).astype(np.float32)

    def action_lower(self) -> np.ndarray:
        """Lower bounds of the 14-dim action (joint limits, gripper 0)."""
        arm = np.concatenate([self.arm.lower, [0.0]])
        return np.concatenate([arm, arm])

    def action_upper(self) -> np.ndarray:
        """Upper bounds of the 14-dim action (joint limits, gripper 1)."""
        arm = np.concatenate([self.arm.upper, [1.0]])
        return np.concatenate([arm, arm])

    def action_max_step(self, dt: float) -> np.ndarray:
        """Largest change of each action dimension within one control interval `dt` (s)."""
        arm = np.concatenate([self.arm.max_speed * dt, [self.arm.gripper_speed * dt]])
        return np.concatenate([arm, arm])

    def to_dict(self) -> dict:
        """A JSON-serializable description, stored with datasets and results."""
        return asdict(self)

    def digest(self) -> str:
        """A short stable hash of the spec; generated files and datasets are keyed by it."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


PIPER_BIMANUAL = EmbodimentSpec()


def arm_slice(arm: str) -> slice:
    """The joint slice of `arm` ('left' or 'right') inside a 14-dim action."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {ARMS}, got {arm!r}")
    start = 0 if arm == "left" else ARM_DOF + 1
    return slice(start, start + ARM_DOF)


def gripper_index(arm: str) -> int:
    """The index of `arm`'s gripper value inside a 14-dim action."""
    return arm_slice(arm).stop


#: Indices of the 12 arm joints and of the 2 grippers inside a 14-dim action.
JOINT_INDICES = np.r_[arm_slice("left"), arm_slice("right")]
GRIPPER_INDICES = np.array([gripper_index(a) for a in ARMS])
