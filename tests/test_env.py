"""BimanualEnv: action clipping, the success latch, determinism and the observation layout."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NeverTask, PulseTask

from eva_bench.sim import env as env_module
from eva_bench.sim.embodiment import CONTROL_DT, PHYSICS_HZ, PIPER_BIMANUAL, SUBSTEPS, arm_slice, gripper_index
from eva_bench.sim.env import BimanualEnv
from eva_bench.task import TASKS

SPEC = PIPER_BIMANUAL


@pytest.fixture(scope="module")
def env() -> BimanualEnv:
    return BimanualEnv()


def test_timing_contract(env) -> None:
    assert (PHYSICS_HZ, SUBSTEPS) == (250, 15)
    assert pytest.approx(0.06) == CONTROL_DT
    assert env_module.CONTROL_DT is CONTROL_DT  # still importable from the env
    task = env.reset(NeverTask, 0)
    assert env.scene.get_timestep() == pytest.approx(1.0 / PHYSICS_HZ)
    env.step(env.command)
    assert task.substeps == SUBSTEPS  # one action = SUBSTEPS physics steps, success checked after each
    env.step(env.command)
    assert task.substeps == 2 * SUBSTEPS


def test_action_is_clipped_to_joint_limits(env) -> None:
    env.reset(PulseTask, 0)
    target = env.command.copy()
    target[arm_slice("left")] = SPEC.arm.upper + 1.0  # far beyond every upper limit
    target[gripper_index("left")] = 7.0
    for _ in range(200):  # long enough for the speed limit to let every joint arrive
        env.step(target)
    np.testing.assert_allclose(env.command[arm_slice("left")], SPEC.arm.upper, atol=1e-5)
    assert env.command[gripper_index("left")] == pytest.approx(1.0)
    # The right arm was commanded to stay and did.
    np.testing.assert_allclose(env.command[arm_slice("right")], SPEC.home_qpos("right"), atol=1e-6)


def test_action_is_clipped_to_speed_limits(env) -> None:
    env.reset(PulseTask, 0)
    start = env.command.copy()
    target = start.copy()
    target[arm_slice("right")] = SPEC.arm.lower  # a jump of more than one control step's travel
    target[gripper_index("right")] = 0.0
    env.step(target)
    moved = np.abs(env.command - start)
    limit = SPEC.action_max_step(CONTROL_DT)
    assert np.all(moved <= limit + 1e-6)
    # Joints that had to travel further than one step's worth moved exactly one step's worth.
    far = np.abs(target - start) > limit
    np.testing.assert_allclose(moved[far], limit[far], rtol=1e-5)


def test_bad_actions_are_rejected(env) -> None:
    env.reset(PulseTask, 0)
    with pytest.raises(ValueError, match="14 values"):
        env.step(np.zeros(13))
    bad = env.command.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        env.step(bad)


def test_joints_track_commands(env) -> None:
    """PD drives with gravity compensation follow a slow command closely."""
    env.reset(PulseTask, 0)
    target = env.command.copy()
    target[arm_slice("left")] += np.deg2rad([20, 10, -10, 15, 10, 20])
    for _ in range(40):
        env.step(target)
    measured = env.arms["left"].qpos
    np.testing.assert_allclose(measured, env.command[arm_slice("left")], atol=np.deg2rad(1.0))


def test_success_latches(env) -> None:
    task = env.reset(PulseTask, 0)
    hold = env.command.copy()
    results = [env.step(hold) for _ in range(4)]
    # The condition held only at sub-step 20 (inside the second control step) and is false afterwards ...
    assert not task.check_success()
    # ... yet success was latched from that step on.
    assert results == [False, True, True, True]
    assert env.success


def test_reset_is_deterministic_and_seed_dependent() -> None:
    env = BimanualEnv()
    cls = TASKS.get("place_container_plate")

    def state(seed: int) -> np.ndarray:
        task = env.reset(cls, seed)
        return np.concatenate([task.container.pose.p, task.container.pose.q, task.plate.pose.p])

    first, again, other = state(4), state(4), state(5)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_replay_is_bit_exact() -> None:
    """The same seed and actions give the same physics, so an action log reproduces an episode."""
    cls = TASKS.get("place_container_plate")
    rng = np.random.default_rng(1)
    env_a, env_b = BimanualEnv(), BimanualEnv(cameras={"head_camera": (64, 48)})
    env_a.reset(cls, 2)
    env_b.reset(cls, 2)
    actions = env_a.command + rng.normal(0, 0.3, size=(30, 14)).astype(np.float32)
    for action in actions:
        env_a.step(action)
        env_b.step(action)
    pose_a, pose_b = env_a.task.container.pose, env_b.task.container.pose
    np.testing.assert_array_equal(pose_a.p, pose_b.p)
    np.testing.assert_array_equal(env_a.arms["left"].qpos, env_b.arms["left"].qpos)


def test_observation_layout_and_requested_cameras() -> None:
    env = BimanualEnv(cameras={"head_camera": (64, 48), "left_camera": (32, 32)})
    env.reset(PulseTask, 0)
    obs = env.get_obs()
    assert set(obs["observation"]) == {"head_camera", "left_camera"}
    head = obs["observation"]["head_camera"]
    assert head["rgb"].shape == (48, 64, 3) and head["rgb"].dtype == np.uint8
    assert head["intrinsic_cv"].shape == (3, 3)
    assert head["extrinsic_cv"].shape == (3, 4)
    assert head["cam2world_gl"].shape == (4, 4)
    assert obs["observation"]["left_camera"]["rgb"].shape == (32, 32, 3)
    joints = obs["joint_action"]
    np.testing.assert_array_equal(joints["vector"], env.command)
    np.testing.assert_array_equal(joints["left_arm"], env.command[:6])
    assert joints["right_gripper"] == env.command[13]
    assert obs["endpose"]["left_endpose"].shape == (7,)
    assert set(env.get_obs(["left_camera"])["observation"]) == {"left_camera"}
    # The head camera looks at the table: the image is not empty.
    assert head["rgb"].std() > 5


def test_robot_masks_mark_the_arms_pixels_where_asked() -> None:
    env = BimanualEnv(cameras={"head_camera": (160, 120), "left_camera": (32, 32)})
    env.reset(PulseTask, 0)
    obs = env.get_obs(robot_masks=["head_camera"])["observation"]
    assert "robot_mask" not in obs["left_camera"]
    mask = obs["head_camera"]["robot_mask"]
    assert mask.shape == (120, 160) and mask.dtype == bool
    assert 0.01 < mask.mean() < 0.5  # both arms in view at home, far from filling the frame
    # the marked pixels are the arms': they change where the arms move, the rest of the scene stays
    rgb = obs["head_camera"]["rgb"]
    action = env.command.copy()
    action[1] += 0.6  # the left shoulder
    for _ in range(40):
        env.step(action)
    moved = env.get_obs(robot_masks=["head_camera"])["observation"]["head_camera"]
    changed = np.abs(moved["rgb"].astype(int) - rgb.astype(int)).sum(-1) > 30
    assert changed.any() and (changed & ~(mask | moved["robot_mask"])).mean() < 0.01 * changed.mean() + 0.002


def test_head_camera_intrinsics_match_robotwin_d435() -> None:
    env = BimanualEnv(cameras={"head_camera": (320, 240)})
    env.reset(PulseTask, 0)
    k = env.get_obs()["observation"]["head_camera"]["intrinsic_cv"]
    fy = 240 / 2 / np.tan(np.deg2rad(37) / 2)  # vertical FOV 37 deg
    assert k[1, 1] == pytest.approx(fy, rel=1e-3)
    assert (k[0, 2], k[1, 2]) == pytest.approx((160, 120))
