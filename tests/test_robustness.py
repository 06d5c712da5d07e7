"""The robustness measurement: perturbations do what their names say, and a real task's table is honest."""

from __future__ import annotations

import numpy as np
import pytest

from eva_bench import robustness
from eva_bench.robustness import Perturbation, perturb
from eva_bench.sim.embodiment import ARMS, PIPER_BIMANUAL, arm_slice, gripper_index

JOINTS = np.concatenate([np.arange(arm_slice(a).start, arm_slice(a).stop) for a in ARMS])
GRIPPERS = [gripper_index(a) for a in ARMS]


def _plan(steps: int = 400) -> np.ndarray:
    actions = np.repeat(PIPER_BIMANUAL.home_action()[None], steps, 0).astype(np.float32)
    actions[steps // 2 :, GRIPPERS] = 0.0  # grippers close half-way
    return actions


def test_parse_and_labels() -> None:
    assert Perturbation.parse("iid:0.02") == Perturbation("iid", 0.02)
    assert Perturbation.parse("gripper_shift:-5").label == "gripper_shift:-5"
    assert Perturbation.parse("none").label == "none"
    for bad in ("iid", "wobble:0.1", "iid:-1", "gripper_shift:2.5", "bias:x"):
        with pytest.raises(ValueError):
            Perturbation.parse(bad)


def test_iid_noise_has_the_size_asked_and_spares_the_grippers(rng) -> None:
    plan = _plan()
    out = perturb(plan, Perturbation("iid", 0.02), rng)
    error = out - plan
    assert error[:, JOINTS].std() == pytest.approx(0.02, rel=0.05)
    assert abs(np.corrcoef(error[:-1, 0], error[1:, 0])[0, 1]) < 0.15  # independent step to step
    np.testing.assert_array_equal(out[:, GRIPPERS], plan[:, GRIPPERS])


def test_bias_is_constant_with_exact_magnitude(rng) -> None:
    plan = _plan()
    error = perturb(plan, Perturbation("bias", 0.01), rng) - plan
    np.testing.assert_allclose(np.abs(error[:, JOINTS]), 0.01, atol=1e-6)
    np.testing.assert_allclose(error[:, JOINTS], np.repeat(error[:1, JOINTS], len(plan), 0), atol=1e-7)


def test_lowpass_noise_is_slow_with_the_asked_std(rng) -> None:
    noise = robustness.slow_noise(20000, 4, 0.05, rng)
    assert noise.std() == pytest.approx(0.05, rel=0.1)
    lag1 = np.corrcoef(noise[:-1, 0], noise[1:, 0])[0, 1]
    assert lag1 == pytest.approx(np.exp(-1 / robustness.LOWPASS_STEPS), abs=0.02)


def test_gripper_shift_moves_the_close_later_or_earlier(rng) -> None:
    plan = _plan()
    late = perturb(plan, Perturbation("gripper_shift", 5), rng)
    early = perturb(plan, Perturbation("gripper_shift", -5), rng)
    close = len(plan) // 2
    assert late[close + 4, GRIPPERS[0]] == 1.0 and late[close + 5, GRIPPERS[0]] == 0.0
    assert early[close - 6, GRIPPERS[0]] == 1.0 and early[close - 5, GRIPPERS[0]] == 0.0
    np.testing.assert_array_equal(late[:, JOINTS], plan[:, JOINTS])


def test_table_counts_and_names_tasks_below_target() -> None:
    rows = [robustness.RobustnessRow("a", 1, s, p, ok, 10)
            for s, (p, ok) in enumerate([("none", True), ("iid:0.02", False), ("none", True), ("iid:0.02", True)])]
    text = robustness.table(rows)
    assert "| a (v1) | 2/2 | 1/2 |" in text
    assert "| **mean** | 100% | 50% |" in text
    assert text.endswith("iid:0.02 or bias:0.02: a")


@pytest.mark.slow
@pytest.mark.ci
def test_click_bell_expert_survives_no_perturbation_and_fails_under_huge_bias(tmp_path) -> None:
    rows = robustness.measure(["click_bell"], 1, [Perturbation("none"), Perturbation("bias", 0.3)])
    by_label = {r.perturbation: r.success for r in rows}
    assert by_label == {"none": True, "bias:0.3": False}  # the plan works; 0.3 rad (~20 cm at the tip) misses
    robustness.write_csv(rows, tmp_path / "r.csv")
    assert robustness.read_csv(tmp_path / "r.csv") == rows
