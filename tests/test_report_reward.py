"""Figure S1(b) (reward of successful vs failed episodes, AUROC) and Figure S3 (the GRPO curve) from stored data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from eva_bench.cli import app
from eva_bench.report.grpo import moving_average
from eva_bench.report.reward import auroc, auroc_ci
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo


def test_auroc_is_the_chance_a_success_outscores_a_failure() -> None:
    assert auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2, 0.3])) == 1.0
    assert auroc(np.array([0.1]), np.array([0.9, 0.8])) == 0.0
    assert auroc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5  # ties count one half
    assert auroc(np.array([0.3, 0.7]), np.array([0.5])) == 0.5
    assert np.isnan(auroc(np.array([0.3]), np.array([])))
    rng = np.random.default_rng(0)
    value, low, high = auroc_ci(rng.normal(1, 1, 60), rng.normal(0, 1, 60), samples=500)
    assert 0.6 < value < 0.9 and low < value < high and low > 0.5  # a real signal: the interval is above chance
    value, low, high = auroc_ci(rng.normal(0, 1, 60), rng.normal(0, 1, 60), samples=500)
    assert low < 0.5 < high  # no signal: chance is inside the interval


def _store(path) -> None:
    rng = np.random.default_rng(1)
    with ResultsStore(path) as store:
        store.start_run(RunInfo(run_id="r", policy="eva", checkpoint=None, seed=0, episodes=20,
                                instruction_kind="unseen", tasks=["lift", "stack"], embodiment="e"))
        for task, separation in (("lift", 0.3), ("stack", 0.0)):
            for episode in range(20):
                success = episode % 2 == 0 if task == "lift" else True  # stack: successes only
                store.add_episode(EpisodeRecord(
                    run_id="r", task=task, task_version=1, episode=episode, seed=episode, instruction="x",
                    success=success, steps=5, step_limit=9, wall_time_s=1.0,
                    reward=float(0.5 + separation * success + rng.normal(0, 0.05))))


def test_report_reward_writes_per_task_and_pooled_aurocs(tmp_path) -> None:
    _store(tmp_path / "db.sqlite")
    run = CliRunner().invoke(app, ["report", "reward", "--run-id", "r", "--db", str(tmp_path / "db.sqlite"),
                                   "--out", str(tmp_path / "out"), "--bootstrap", "200"])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(tmp_path / "out" / "reward_success.csv")
    assert list(table.task) == ["lift", "stack", "all"]
    assert table.auroc[0] > 0.95 and np.isnan(table.auroc[1]) and 0.5 < table.auroc[2] <= 1
    assert list(table.successes) == [10, 20, 30]
    markdown = (tmp_path / "out" / "reward_success.md").read_text()
    assert "| stack | 20 | 20 |" in markdown and "n/a (one outcome only)" in markdown
    assert Image.open(tmp_path / "out" / "reward_success.png").size[0] > 400
    missing = CliRunner().invoke(app, ["report", "reward", "--run-id", "nope", "--db", str(tmp_path / "db.sqlite")])
    assert missing.exit_code != 0 and "no run 'nope'" in str(missing.exception or missing.output)


def test_moving_average_and_a_missing_grpo_run(tmp_path) -> None:
    np.testing.assert_allclose(moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    run = CliRunner().invoke(app, ["report", "grpo", "--run", str(tmp_path), "--out", str(tmp_path / "o")])
    assert run.exit_code != 0 and "grpo_log.csv" in str(run.exception or run.output)


@pytest.mark.parametrize("with_evals", [True, False])
def test_report_grpo_draws_the_curve_and_summarises_it(tmp_path, with_evals) -> None:
    steps = pd.DataFrame({"step": range(1, 31), "reward_mean": np.linspace(0.5, 0.8, 30), "reward_std": 0.05,
                          "static": np.linspace(0, 0.5, 30)})
    steps.to_csv(tmp_path / "grpo_log.csv", index=False)
    if with_evals:
        pd.DataFrame({"step": [10, 20, 30], "val_reward": [0.55, 0.6, 0.7]}).to_csv(tmp_path / "log.csv", index=False)
    run = CliRunner().invoke(app, ["report", "grpo", "--run", str(tmp_path), "--out", str(tmp_path / "o")])
    assert run.exit_code == 0, run.output
    summary = (tmp_path / "o" / "grpo_curve.md").read_text()
    assert "30 GRPO steps" in summary and "first 10 steps 0.5" in summary
    assert ("step 30 0.7000" in summary) == with_evals
    assert Image.open(tmp_path / "o" / "grpo_curve.png").size[0] > 400


def test_report_joints_decodes_the_highest_and_lowest_reward_rollouts(tmp_path) -> None:
    from eva_bench.paths import released_idm_dir
    from eva_bench.video import write_mp4

    db = tmp_path / "db.sqlite"
    rng = np.random.default_rng(0)
    with ResultsStore(db) as store:
        store.start_run(RunInfo(run_id="w", policy="eva-norl", checkpoint=None, seed=0, episodes=3,
                                instruction_kind="seen", tasks=["lift"], embodiment="e",
                                reward_idm=str(released_idm_dir())))
        for episode, imagined_reward in enumerate((0.4, 0.9, 0.1)):
            video = write_mp4(tmp_path / f"ep{episode}_imagined.mp4",
                              rng.integers(0, 255, (6, 120, 160, 3), dtype=np.uint8), fps=10)
            store.add_episode(EpisodeRecord(
                run_id="w", task="lift", task_version=1, episode=episode, seed=episode, instruction="x",
                success=episode == 1, steps=5, step_limit=9, wall_time_s=1.0, reward=0.5,
                policy_metrics={"imagined_reward": imagined_reward, "videos": {"imagined": str(video)}}))
    run = CliRunner().invoke(app, ["report", "joints", "--run-id", "w", "--db", str(db), "--out", str(tmp_path / "o")])
    assert run.exit_code == 0, run.output
    summary = json.loads((tmp_path / "o" / "figure2_joints.json").read_text())
    assert (summary["high"]["episode"], summary["low"]["episode"]) == (1, 2)
    assert summary["high"]["stored_reward"] == 0.9 and summary["episodes_scored"] == 3
    assert 0 <= summary["low"]["reward_from_mp4"] <= 1
    assert Image.open(tmp_path / "o" / "figure2_joints.png").size[0] > 800
    # executed videos: none saved in this run
    none = CliRunner().invoke(app, ["report", "joints", "--run-id", "w", "--source", "executed", "--db", str(db)])
    assert none.exit_code != 0 and "has 0 episode(s) with an executed video" in str(none.exception or none.output)


def test_report_curve_draws_every_logged_number(tmp_path) -> None:
    run = tmp_path / "wm"
    run.mkdir()
    (run / "log.csv").write_text("step,epoch,lr,train_loss,val_loss,val_psnr_db,samples_per_s,time\n"
                                 "500,0.1,1e-3,0.9,0.5,20.6,9.4,t\n1000,0.2,1e-3,0.4,0.36,20.7,7.9,t\n")
    result = CliRunner().invoke(app, ["report", "curve", "--run", str(run), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "o" / "wm_curve.png").size[0] > 3 * 250  # three panels
    assert (tmp_path / "o" / "wm_log.csv").read_text() == (run / "log.csv").read_text()
    empty = CliRunner().invoke(app, ["report", "curve", "--run", str(tmp_path)])
    assert empty.exit_code != 0 and "no log.csv" in str(empty.exception or empty.output)
