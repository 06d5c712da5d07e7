"""The `robotwin` policy: a toy RoboTwin policy folder (get_model / reset_model / eval, printing to stdout as
RoboTwin's do) run unchanged in a host process, directly and through the runner, and its failures."""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pytest
from eva_bench.policies.remote.robotwin import RobotwinPolicyError
from eva_bench.policies.remote.robotwin_host import decode, encode
from typer.testing import CliRunner

from eva_bench.cli import app
from eva_bench.errors import UserError
from eva_bench.policy import make_policy
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.store import ResultsStore

TOY = '''
import numpy as np

print("toy policy imported")  # RoboTwin policies print: stdout must not carry it to the harness


def get_model(usr_args):
    print("loading", usr_args)
    if usr_args.get("fail") == "load":
        raise RuntimeError("no weights here")
    return {"args": usr_args, "evals": 0}


def reset_model(model):
    model["evals"] = 0


def eval(TASK_ENV, model, observation):
    model["evals"] += 1
    assert TASK_ENV.get_instruction(), "no instruction"
    assert isinstance(observation["joint_action"]["left_arm"], list)  # RoboTwin's layout
    action = np.asarray(observation["joint_action"]["vector"], dtype=np.float64).copy()
    action[6] = min(1.0, 0.1 * model["evals"])  # which eval call this is, readable from outside
    for _ in range(model["args"]["chunk"]):
        if model["args"].get("fail") == "eval" and TASK_ENV.take_action_cnt >= 1:
            raise ValueError("the toy policy broke")
        TASK_ENV.take_action(action, action_type="qpos")
'''


def write_toy_folder(root):
    """RoboTwin/policy/toy under `root`: the toy policy with its deploy_policy.yml."""
    folder = root / "RoboTwin" / "policy" / "toy"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("from .deploy_policy import *\n")
    (folder / "deploy_policy.py").write_text(textwrap.dedent(TOY))
    (folder / "deploy_policy.yml").write_text("chunk: 2\nckpt_setting: none\n")
    return folder


@pytest.fixture
def toy_folder(tmp_path):
    return write_toy_folder(tmp_path)


def _obs() -> dict:
    vector = PIPER_BIMANUAL.home_action().astype(np.float32)
    return {"observation": {"head_camera": {"rgb": np.zeros((48, 64, 3), np.uint8)}},
            "joint_action": {"left_arm": vector[:6], "left_gripper": 1.0, "right_arm": vector[7:13],
                             "right_gripper": 1.0, "vector": vector}, "endpose": {}}


def test_the_frame_codec_round_trips_nested_arrays_without_pickle() -> None:
    message = {"op": "step", "obs": {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "b": [1, "x", None]},
               "flag": True}
    back = decode(io.BytesIO(encode(message)))
    np.testing.assert_array_equal(back["obs"]["a"], message["obs"]["a"])
    assert back["obs"]["b"] == [1, "x", None] and back["flag"] is True
    with pytest.raises(EOFError):
        decode(io.BytesIO(encode(message)[:-3]))


def test_the_policy_folder_runs_unchanged_one_action_per_act(toy_folder) -> None:
    policy = make_policy("robotwin", options={"path": str(toy_folder), "overrides": "chunk=3",
                                              "cameras": "head_camera", "resolution": "64x48"})
    assert policy.camera_requests() == {"head_camera": (64, 48)} and policy.execute_steps == 1
    policy.reset("click_bell", "click the bell", 0)
    grippers = [float(policy.act(_obs())[0, 6]) for _ in range(7)]
    # one eval call takes 3 actions (the override beats deploy_policy.yml's chunk 2); then RoboTwin's loop
    # calls eval again on the latest observation
    assert grippers == pytest.approx([0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.3])
    policy.reset("click_bell", "click the bell", 1)  # reset_model: the count starts again
    assert float(policy.act(_obs())[0, 6]) == pytest.approx(0.1)
    policy.close()


def test_failures_are_reported_with_the_policys_traceback(toy_folder) -> None:
    with pytest.raises(RobotwinPolicyError, match="(?s)the policy failed:.*no weights here"):
        make_policy("robotwin", options={"path": str(toy_folder), "overrides": "fail=load"}).reset("t", "x", 0)
    with pytest.raises(UserError, match="path=<a RoboTwin policy folder>"):
        make_policy("robotwin")
    with pytest.raises(UserError, match="no deploy_policy.py"):
        make_policy("robotwin", options={"path": str(toy_folder.parent)})
    dead = make_policy("robotwin", options={"path": str(toy_folder), "python": "/bin/false"})
    with pytest.raises(RobotwinPolicyError, match="the policy host died"):
        dead.reset("click_bell", "x", 0)


def test_a_run_through_the_runner_and_a_policy_that_breaks_mid_episode(toy_folder, tmp_path) -> None:
    db = tmp_path / "db.sqlite"
    base = ["run", "--policy", "robotwin", "--policy-option", f"path={toy_folder}", "--policy-option",
            "cameras=head_camera", "--policy-option", "resolution=64x48", "--tasks", "_test_pulse", "--episodes",
            "2", "--db", str(db), "--out", str(tmp_path / "ep"), "--no-video", "--reward-idm", "none"]
    ok = CliRunner().invoke(app, [*base, "--run-id", "ok"])
    assert ok.exit_code == 0, ok.output
    broken = CliRunner().invoke(app, [*base, "--policy-option", "overrides=fail=eval", "--run-id", "broken"])
    assert broken.exit_code == 0, broken.output
    with ResultsStore(db) as store:
        played, failed = store.episodes("ok"), store.episodes("broken")
    assert [e.error for e in played] == [None, None] and all(e.steps >= 1 for e in played)
    assert len(failed) == 2 and all("the toy policy broke" in e.error for e in failed)  # each episode: a new host
