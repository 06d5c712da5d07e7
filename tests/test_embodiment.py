"""The embodiment spec, the generated robot description and the planner agree with each other."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sapien

from eva_bench.sim.embodiment import CONTROL_DT, PIPER_BIMANUAL, ArmSpec, EmbodimentSpec, JointSpec, MountSpec
from eva_bench.sim.env import BimanualEnv
from eva_bench.sim.planner import ArmPlanner, PlanningError
from eva_bench.sim.urdf import ARM_JOINTS, arm_files

SPEC = PIPER_BIMANUAL


def test_limits_follow_table_s3() -> None:
    np.testing.assert_allclose(np.rad2deg(SPEC.arm.lower), [-154, 0, -175, -106, -75, -100])
    np.testing.assert_allclose(np.rad2deg(SPEC.arm.upper), [154, 195, 0, 106, 75, 100])
    np.testing.assert_allclose(np.rad2deg(SPEC.arm.max_speed), [180, 195, 180, 225, 225, 225])
    assert SPEC.arm.reach == pytest.approx(0.626, abs=0.005)
    assert 2 * SPEC.arm.finger_travel == pytest.approx(0.07)


def test_spec_validation_and_digest() -> None:
    with pytest.raises(ValueError, match="lower < upper"):
        JointSpec(10.0, -10.0, 90.0)
    with pytest.raises(ValueError, match="max_speed_deg must be positive"):
        JointSpec(-10.0, 10.0, 0.0)
    with pytest.raises(ValueError, match="home_deg"):
        EmbodimentSpec(home_deg=(0, -5, 0, 0, 0, 0))
    assert re.fullmatch(r"[0-9a-f]{12}", SPEC.digest())
    # The digest keys generated files and datasets, so it must be the same in every process (no hash seed, no
    # object identity in it) and change with any field, nested ones included.
    code = "from eva_bench.sim.embodiment import PIPER_BIMANUAL; print(PIPER_BIMANUAL.digest())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "123"}).stdout.strip()
    assert fresh == SPEC.digest()
    changed = {
        EmbodimentSpec(arm=ArmSpec(wrist=0.1)).digest(),
        EmbodimentSpec(table_height=0.75).digest(),
        EmbodimentSpec(mounts=(MountSpec((-0.30, -0.42, 0.74)), MountSpec((0.30, -0.42, 0.74), 80.0))).digest(),
    }
    assert SPEC.digest() not in changed and len(changed) == 3


def test_urdf_joint_limits_come_from_the_spec() -> None:
    root = ET.parse(arm_files(SPEC).urdf).getroot()
    joints = {j.get("name"): j for j in root.findall("joint")}
    for name, lower, upper, speed in zip(ARM_JOINTS, SPEC.arm.lower, SPEC.arm.upper, SPEC.arm.max_speed,
                                         strict=True):
        limit = joints[name].find("limit")
        assert float(limit.get("lower")) == pytest.approx(lower, abs=1e-5)
        assert float(limit.get("upper")) == pytest.approx(upper, abs=1e-5)
        assert float(limit.get("velocity")) == pytest.approx(speed, abs=1e-5)


def test_srdf_disables_adjacent_pairs_only_sensibly() -> None:
    root = ET.parse(arm_files(SPEC).srdf).getroot()
    pairs = {tuple(sorted((d.get("link1"), d.get("link2")))) for d in root.findall("disable_collisions")}
    assert ("link1", "link2") in pairs and ("finger_left", "finger_right") in pairs
    # The gripper can reach the upper arm: that pair must stay checked.
    assert ("finger_left", "link2") not in pairs


@pytest.fixture(scope="module")
def planner() -> ArmPlanner:
    return ArmPlanner(SPEC, SPEC.mounts[0], arm_files(SPEC), CONTROL_DT)


def test_planner_kinematics_match_the_simulator(planner) -> None:
    """FK of the planner equals the TCP pose SAPIEN computes for the same joint values."""
    env = BimanualEnv()
    from conftest import PulseTask

    env.reset(PulseTask, 0)
    qpos = SPEC.home_qpos() + np.deg2rad([10, 20, -15, 30, -20, 40])
    full = np.concatenate([qpos, [0.035, 0.035]])
    env.arms["left"].articulation.set_qpos(full)
    sim_tcp = env.tcp_pose("left")
    fk = planner.fk(qpos)
    np.testing.assert_allclose(fk.p, sim_tcp.p, atol=1e-4)
    assert abs(float(np.dot(fk.q, sim_tcp.q))) == pytest.approx(1.0, abs=1e-5)


def test_ik_recovers_reachable_poses(planner) -> None:
    rng = np.random.default_rng(3)
    solved = tried = 0
    while tried < 40:
        qpos = rng.uniform(SPEC.arm.lower, SPEC.arm.upper)
        pose = planner.fk(qpos)
        if planner.in_collision(qpos) or pose.p[2] < SPEC.table_height + 0.03:
            continue
        tried += 1
        try:
            found = planner.ik(pose, SPEC.home_qpos(), symmetric=False)
        except PlanningError:
            continue
        solved += 1
        got = planner.fk(found)
        np.testing.assert_allclose(got.p, pose.p, atol=1e-3)
    assert solved >= 36  # >= 90% of reachable poses


def test_retimed_paths_respect_speed_limits(planner) -> None:
    start = SPEC.home_qpos()
    goal = start + np.deg2rad([40, 30, -30, 60, -40, -70])
    assert np.all((goal >= SPEC.arm.lower) & (goal <= SPEC.arm.upper))
    path = planner.plan_to_qpos(start, goal)
    steps = np.abs(np.diff(np.vstack([start, path]), axis=0))
    assert np.all(steps <= planner.vmax * CONTROL_DT * 1.02)
    np.testing.assert_allclose(path[-1], goal)
    fallback = planner._retime_trapezoid(np.stack([start, goal]))
    steps = np.abs(np.diff(np.vstack([start, fallback]), axis=0))
    assert np.all(steps <= planner.vmax * CONTROL_DT * 1.02)
    np.testing.assert_allclose(fallback[-1], goal)


def test_straight_line_keeps_the_tcp_on_the_line(planner) -> None:
    start = SPEC.home_qpos()
    begin = planner.fk(start)
    end = sapien.Pose(begin.p + [0.05, 0.08, -0.1], begin.q)
    path = planner.plan_line(start, end)
    points = np.array([planner.fk(q).p for q in path])
    direction = (end.p - begin.p) / np.linalg.norm(end.p - begin.p)
    offsets = points - begin.p
    off_line = offsets - np.outer(offsets @ direction, direction)
    assert np.max(np.linalg.norm(off_line, axis=1)) < 0.005
    np.testing.assert_allclose(points[-1], end.p, atol=1e-3)


def test_rrt_paths_avoid_obstacles_and_do_not_depend_on_history(planner) -> None:
    """A joint move blocked by an obstacle is re-planned; every executed sample is collision-free, and the
    answer to a query does not depend on the queries before it."""
    env = BimanualEnv()
    from conftest import PulseTask

    env.reset(PulseTask, 0)
    start = SPEC.home_qpos()
    goal = start + np.deg2rad([-60, 35, -20, 0, -30, 0])
    mid = planner.fk((start + goal) / 2).p
    builder = env.scene.create_actor_builder()
    builder.add_box_collision(half_size=[0.04, 0.04, 0.04])
    builder.set_initial_pose(sapien.Pose(mid))
    wall = builder.build_static("obstacle")
    planner.set_obstacles([])
    assert not planner.in_collision(start) and not planner.in_collision(goal)
    planner.set_obstacles([wall])
    from eva_bench.sim.rrt import segment_free

    assert not segment_free(start, goal, lambda q: not planner.in_collision(q), 0.03), "the straight move is blocked"
    first = planner.plan_to_qpos(start, goal)
    assert not any(planner.in_collision(q) for q in first)
    np.testing.assert_allclose(first[-1], goal)
    planner.plan_to_qpos(goal, start)  # another query in between
    np.testing.assert_array_equal(planner.plan_to_qpos(start, goal), first)
    planner.set_obstacles([])
