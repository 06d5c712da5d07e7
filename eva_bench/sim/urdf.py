"""Generate one arm's URDF and SRDF from the embodiment spec.

Geometry is made of boxes and cylinders (fast to render on a CPU rasterizer). The SRDF lists the link pairs the
planner must not check; it is derived by sampling joint configurations, as MoveIt's setup assistant does: a pair
is disabled when the links are adjacent, touch at the home pose, or touch in almost every sample. Files are
written once per spec digest into the cache directory and reused.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from eva_bench.fileio import atomic_path, atomic_write
from eva_bench.paths import cache_dir
from eva_bench.sim.embodiment import ARM_DOF, ArmSpec, EmbodimentSpec

ARM_JOINTS = tuple(f"joint{i}" for i in range(1, ARM_DOF + 1))
FINGER_JOINTS = ("finger_left_joint", "finger_right_joint")
FINGER_LINKS = ("finger_left", "finger_right")
FLANGE_LINK = "link6"
TCP_LINK = "tcp"

_PAD_HALF_THICKNESS = 0.005  # finger pad half thickness across the closing axis (m)
_PAD_HALF_HEIGHT = 0.012  # finger pad half height (m)
TIP_MARGIN = 0.015  # the TCP sits this far inside the finger tips (m)
_SRDF_SAMPLES = 1500
_ALWAYS_COLLIDING = 0.95

_DARK = (0.22, 0.22, 0.24, 1.0)
_LIGHT = (0.85, 0.85, 0.87, 1.0)
_BLACK = (0.05, 0.05, 0.05, 1.0)


@dataclass(frozen=True)
class ArmFiles:
    """Paths of the generated description of one arm."""

    urdf: Path
    srdf: Path


def palm_front(arm: ArmSpec) -> float:
    """Distance from the flange to the front face of the palm, where the fingers start (m)."""
    return arm.tcp_offset + TIP_MARGIN - arm.finger_length


def _fmt(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def _box_inertia(mass: float, size) -> str:
    x, y, z = size
    ixx = mass * (y * y + z * z) / 12
    iyy = mass * (x * x + z * z) / 12
    izz = mass * (x * x + y * y) / 12
    return f'<inertia ixx="{ixx:.6g}" iyy="{iyy:.6g}" izz="{izz:.6g}" ixy="0" ixz="0" iyz="0"/>'


class _UrdfWriter:
    """Accumulates links and joints; each link's geometry is used for both visual and collision."""

    def __init__(self, name: str) -> None:
        self.parts = [f'<?xml version="1.0"?>\n<robot name={quoteattr(name)}>']

    def link(self, name: str, mass: float, shapes: list[tuple[str, tuple, tuple, tuple]], rgba) -> None:
        """Add a link. `shapes` holds (kind, dims, xyz, rpy) with kind 'box' (full size) or 'cylinder'."""
        body = [f"  <link name={quoteattr(name)}>"]
        extent = np.zeros(3)
        centre = np.zeros(3)
        for kind, dims, xyz, rpy in shapes:
            if kind == "box":
                geom = f'<box size="{_fmt(dims)}"/>'
            else:
                geom = f'<cylinder radius="{dims[0]:.6g}" length="{dims[1]:.6g}"/>'
            origin = f'<origin xyz="{_fmt(xyz)}" rpy="{_fmt(rpy)}"/>'
            colour = f'<material name="{name}_mat"><color rgba="{_fmt(rgba)}"/></material>'
            body.append(f"    <visual>{origin}<geometry>{geom}</geometry>{colour}</visual>")
            body.append(f"    <collision>{origin}<geometry>{geom}</geometry></collision>")
            extent = np.maximum(extent, np.abs(np.asarray(xyz)) + 0.03)
            centre = np.asarray(xyz) if not centre.any() else centre
        inertia = _box_inertia(mass, np.maximum(extent, 0.02))
        body.append(
            f'    <inertial><origin xyz="{_fmt(centre)}"/><mass value="{mass:.6g}"/>{inertia}</inertial>'
        )
        body.append("  </link>")
        self.parts.extend(body)

    def joint(self, name: str, kind: str, parent: str, child: str, xyz, axis=(0, 0, 1), limits=None) -> None:
        """Add a joint; `limits` is (lower, upper, velocity, effort) for movable joints."""
        lines = [
            f"  <joint name={quoteattr(name)} type={quoteattr(kind)}>",
            f"    <parent link={quoteattr(parent)}/><child link={quoteattr(child)}/>",
            f'    <origin xyz="{_fmt(xyz)}" rpy="0 0 0"/>',
        ]
        if kind != "fixed":
            lower, upper, velocity, effort = limits
            lines.append(f'    <axis xyz="{_fmt(axis)}"/>')
            lines.append(
                f'    <limit lower="{lower:.6g}" upper="{upper:.6g}" velocity="{velocity:.6g}" '
                f'effort="{effort:.6g}"/>'
            )
        lines.append("  </joint>")
        self.parts.extend(lines)

    def text(self) -> str:
        return "\n".join([*self.parts, "</robot>", ""])


_ALONG_X = (0.0, np.pi / 2, 0.0)  # rotates a URDF cylinder (axis z) onto the x axis
_ALONG_Y = (np.pi / 2, 0.0, 0.0)  # ... onto the y axis


def arm_urdf(arm: ArmSpec, name: str = "piper_arm") -> str:
    """The URDF text of one arm with its gripper, rooted at the mounting plate."""
    w = _UrdfWriter(name)
    m = arm.link_mass
    lo, hi, speed = arm.lower, arm.upper, arm.max_speed
    effort = 100.0
    w.link("base_link", m, [("cylinder", (0.05, 0.04), (0, 0, 0.02), (0, 0, 0))], _DARK)
    w.joint("joint1", "revolute", "base_link", "link1", (0, 0, 0.04), (0, 0, 1), (lo[0], hi[0], speed[0], effort))
    shoulder = arm.shoulder_height - 0.04
    w.link(
        "link1",
        m,
        [("cylinder", (0.04, shoulder - 0.02), (0, 0, (shoulder - 0.02) / 2), (0, 0, 0)),
         ("cylinder", (0.035, 0.07), (0, 0, shoulder), _ALONG_Y)],
        _LIGHT,
    )
    w.joint("joint2", "revolute", "link1", "link2", (0, 0, shoulder), (0, 1, 0), (lo[1], hi[1], speed[1], effort))
    ua = arm.upper_arm
    w.link("link2", m, [("box", (ua - 0.08, 0.05, 0.045), (-ua / 2, 0, 0), (0, 0, 0))], _DARK)
    w.joint("joint3", "revolute", "link2", "link3", (-ua, 0, 0), (0, 1, 0), (lo[2], hi[2], speed[2], effort))
    fa1 = 0.12
    w.link(
        "link3",
        m,
        [("cylinder", (0.032, 0.066), (0, 0, 0), _ALONG_Y),
         ("cylinder", (0.026, fa1 - 0.04), (fa1 / 2 + 0.01, 0, 0), _ALONG_X)],
        _LIGHT,
    )
    w.joint("joint4", "revolute", "link3", "link4", (fa1, 0, 0), (1, 0, 0), (lo[3], hi[3], speed[3], effort))
    fa2 = arm.forearm - fa1
    w.link("link4", m, [("cylinder", (0.024, fa2 - 0.04), (fa2 / 2 - 0.01, 0, 0), _ALONG_X)], _DARK)
    w.joint("joint5", "revolute", "link4", "link5", (fa2, 0, 0), (0, 1, 0), (lo[4], hi[4], speed[4], effort))
    wr = arm.wrist
    w.link(
        "link5",
        m * 0.5,
        [("cylinder", (0.025, 0.05), (0, 0, 0), _ALONG_Y),
         ("cylinder", (0.022, wr - 0.04), (wr / 2, 0, 0), _ALONG_X)],
        _LIGHT,
    )
    w.joint("joint6", "revolute", "link5", "link6", (wr, 0, 0), (1, 0, 0), (lo[5], hi[5], speed[5], effort))
    front = palm_front(arm)
    w.link(
        "link6",
        m * 0.5,
        [("cylinder", (0.028, 0.02), (0.01, 0, 0), _ALONG_X),
         ("box", (front - 0.02, 2 * arm.finger_travel + 0.03, 0.035), ((front + 0.02) / 2, 0, 0), (0, 0, 0))],
        _DARK,
    )
    pad = (arm.finger_length, 2 * _PAD_HALF_THICKNESS, 2 * _PAD_HALF_HEIGHT)
    x_pad = front + arm.finger_length / 2
    for sign, finger, joint in zip((1, -1), FINGER_LINKS, FINGER_JOINTS, strict=True):
        w.joint(joint, "prismatic", "link6", finger, (0, 0, 0), (0, sign, 0),
                (0.0, arm.finger_travel, 0.5, arm.gripper_force))
        w.link(finger, 0.05, [("box", pad, (x_pad, sign * _PAD_HALF_THICKNESS, 0), (0, 0, 0))], _BLACK)
    w.joint("tcp_joint", "fixed", "link6", TCP_LINK, (arm.tcp_offset, 0, 0))
    w.parts.append(
        f'  <link name="{TCP_LINK}"><inertial><mass value="0.01"/>{_box_inertia(0.01, (0.01,) * 3)}</inertial></link>'
    )
    return w.text()


def _srdf_text(name: str, pairs: list[tuple[str, str]]) -> str:
    lines = [f'<?xml version="1.0"?>\n<robot name={quoteattr(name)}>']
    for a, b in pairs:
        lines.append(f'  <disable_collisions link1="{a}" link2="{b}" reason="sampled"/>')
    lines.append("</robot>\n")
    return "\n".join(lines)


def sample_disabled_pairs(urdf_path: Path, arm: ArmSpec, home: np.ndarray, samples: int = _SRDF_SAMPLES) -> list:
    """Link pairs to exclude from self-collision checks, found by sampling configurations (seeded)."""
    from mplib.pymp import ArticulatedModel, PlanningWorld

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.srdf"
        empty.write_text(_srdf_text("arm", []))
        model = ArticulatedModel(str(urdf_path), str(empty), convex=False, verbose=False)
    world = PlanningWorld([model], [])
    names = model.get_pinocchio_model().get_link_names()
    joint_names = model.get_pinocchio_model().get_joint_names()
    pin = model.get_pinocchio_model()
    adjacent = {tuple(sorted(p)) for p in _adjacent_pairs(urdf_path)}

    def colliding(qpos: np.ndarray) -> set:
        world.set_qpos_all(qpos)
        return {tuple(sorted((c.link_name1, c.link_name2))) for c in world.check_self_collision()}

    full_home = np.zeros(len(joint_names))
    full_home[:ARM_DOF] = home
    at_home = colliding(full_home) | colliding(np.concatenate([home, [arm.finger_travel] * 2]))
    counts: dict[tuple[str, str], int] = {}
    rng = np.random.default_rng(0)
    limits = np.array([pin.get_joint_limits()[i][0] for i in range(len(joint_names))])
    for _ in range(samples):
        qpos = rng.uniform(limits[:, 0], limits[:, 1])
        for pair in colliding(qpos):
            counts[pair] = counts.get(pair, 0) + 1
    always = {p for p, n in counts.items() if n >= _ALWAYS_COLLIDING * samples}
    disabled = adjacent | at_home | always
    known = set(names)
    return sorted(p for p in disabled if p[0] in known and p[1] in known)


def _adjacent_pairs(urdf_path: Path) -> list[tuple[str, str]]:
    """Parent/child pairs, plus pairs joined through one fixed link (e.g. both fingers via the flange)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(urdf_path).getroot()
    edges = [(j.find("parent").get("link"), j.find("child").get("link")) for j in root.findall("joint")]
    pairs = set(edges)
    children: dict[str, list[str]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
    for kids in children.values():
        pairs.update(itertools.combinations(kids, 2))
    for parent, child in edges:
        for grandchild in children.get(child, []):
            pairs.add((parent, grandchild))
    return sorted(pairs)


def arm_files(spec: EmbodimentSpec) -> ArmFiles:
    """Write (once) and return the URDF/SRDF of one arm of `spec`, cached by the spec digest."""
    folder = cache_dir() / "embodiment" / f"{spec.name}-{spec.digest()}"
    files = ArmFiles(folder / "arm.urdf", folder / "arm.srdf")
    if files.urdf.is_file() and files.srdf.is_file():
        return files
    # Written atomically, SRDF first: concurrent workers never read a half-written file, and a URDF beside
    # its SRDF means both are complete.
    with atomic_path(files.urdf) as tmp_urdf:
        tmp_urdf.write_text(arm_urdf(spec.arm))
        pairs = sample_disabled_pairs(tmp_urdf, spec.arm, spec.home_qpos("left"))
        atomic_write(files.srdf, _srdf_text("piper_arm", pairs))
    return files
