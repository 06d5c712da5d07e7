"""The in-frame measure of the arms: a part inside the frame scores 1, outside 0, and the table summarises."""

from __future__ import annotations

import numpy as np
import pytest

from eva_bench import visibility


def test_table_averages_phases_and_takes_the_worst() -> None:
    rows = [visibility.VisibilityRow("t", 1, arm, part, (v, v, v, v, v))
            for arm, v in (("left", 1.0), ("right", 0.5)) for part in ("gripper", "forearm")]
    text = visibility.table(rows)
    assert "| t | gripper | 75% | 75% | 75% | 75% | 50% |" in text
    assert "| **all tasks** | forearm | 75% |" in text


@pytest.mark.slow
@pytest.mark.ci
def test_a_gripper_moved_into_the_middle_of_the_frame_is_fully_in_view() -> None:
    from eva_bench.doctor import require_rendering
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.task import TASKS

    require_rendering()
    env = BimanualEnv(cameras={"head_camera": (160, 120)})
    env.reset(TASKS.get("click_bell"), 100000)
    meter = visibility.FrameMeter(env, "head_camera", (160, 120))
    arm = env.arms["left"]
    # Gripper hovering above the table centre, pointing down the camera's view: inside the frame.
    arm.reset(np.deg2rad([-28.0, 120.0, -100.0, 0.0, 60.0, 0.0]), 1.0)
    inside = meter.fractions()[("left", "gripper")]
    # Arm folded straight up above its base: the camera's frame ends well below that.
    arm.reset(np.deg2rad([0.0, 90.0, -175.0, 0.0, 0.0, 0.0]), 1.0)
    outside = meter.fractions()[("left", "gripper")]
    assert inside > 0.95
    assert outside < 0.05 or np.isnan(outside)



@pytest.mark.ci
def test_an_arm_on_top_of_the_object_hides_it_and_folded_arms_do_not() -> None:
    import sapien

    from eva_bench.doctor import require_rendering
    from eva_bench.sim.env import BimanualEnv
    from eva_bench.task import TASKS

    require_rendering()
    env = BimanualEnv(cameras={"head_camera": (160, 120)})
    task = env.reset(TASKS.get("click_bell"), 100000)
    meter = visibility.FrameMeter(env, "head_camera", (160, 120))
    for arm in env.arms.values():  # both arms folded straight up, out of the picture
        arm.reset(np.deg2rad([0.0, 90.0, -175.0, 0.0, 0.0, 0.0]), 1.0)
    assert meter.objects_unhidden() > 0.99
    # Put the left arm (folded, upright) on the line of sight from the camera to the bell: it covers the bell.
    from eva_bench.sim.cameras import CAMERAS

    root = env.arms["left"].articulation
    bell, eye = task.bell.pose.p, np.array(CAMERAS["head_camera"].position)
    on_bell = sapien.Pose(bell + 0.3 * (eye - bell) - [0.0, 0.0, 0.3], root.get_root_pose().q)
    root.set_root_pose(on_bell)
    assert meter.objects_unhidden() < 0.5
    assert np.allclose(root.get_root_pose().p, on_bell.p)  # measuring put the arm back where it was
