"""The numpy forward kinematics agrees with the simulator's TCP link."""

from __future__ import annotations

import numpy as np
import pytest

from eva_bench.sim.embodiment import ARMS, PIPER_BIMANUAL
from eva_bench.sim.kinematics import tcp_positions, tip_errors


def test_tcp_matches_the_simulated_tcp_link(rng) -> None:
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.task import TASKS

    env = BimanualEnv()
    env.reset(TASKS.get("_test_pulse"), 0)
    lower, upper = PIPER_BIMANUAL.arm.lower, PIPER_BIMANUAL.arm.upper
    for _ in range(5):
        for arm in ARMS:
            q = rng.uniform(lower, upper)
            env.arms[arm].reset(q, 1.0)
            np.testing.assert_allclose(tcp_positions(q, arm), env.arms[arm].tcp.entity.get_pose().p, atol=1e-4)


def test_tip_error_of_a_joint_offset_is_its_lever_arm() -> None:
    home = PIPER_BIMANUAL.home_action()[None].astype(np.float64)
    moved = home.copy()
    moved[0, 0] += 0.01  # left J1 by 0.01 rad: the TCP swings by 0.01 * its distance from the J1 axis
    radius = np.linalg.norm((tcp_positions(home[0, :6], "left") - np.asarray(PIPER_BIMANUAL.mounts[0].xyz))[:2])
    errors = tip_errors(moved, home)
    assert errors[0, 0] == pytest.approx(0.01 * radius, rel=1e-3)
    assert errors[0, 1] == 0.0
