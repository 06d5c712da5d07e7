"""The evaluation protocol: step limit, success stop, seeds, storage, determinism and resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eva_bench.errors import ProtocolError
from eva_bench.runner import EpisodeJob, EvalConfig, eval_seed_start, evaluate, play_episode
from eva_bench.store import ResultsStore
from eva_bench.video import read_mp4


def job(task: str, out: str, policy: str = "idle", seed: int = 100000, video: bool = False) -> EpisodeJob:
    return EpisodeJob("r", policy, None, (), task, 0, seed, "unseen", out, video)


def test_episode_stops_at_the_step_limit(tmp_path) -> None:
    record = play_episode(job("_test_never", str(tmp_path)))
    assert record.steps == 5 and not record.success and record.step_limit == 5 and record.error is None
    actions = np.load(record.actions_path)["actions"]
    assert actions.shape == (5, 14)


def test_episode_stops_at_success_and_records_video(tmp_path) -> None:
    record = play_episode(job("_test_pulse", str(tmp_path), video=True))
    assert record.success and record.steps == 2  # the pulse fires inside the second control step
    frames = read_mp4(record.video_path)
    assert len(frames) == record.steps + 1  # the initial frame plus one per executed action
    assert frames.shape[1:] == (240, 320, 3)
    assert record.instruction.lower().startswith("pulse unseen")


def config(tmp_path: Path, **kwargs) -> EvalConfig:
    values = {"policy": "idle", "tasks": ["_test_pulse"], "run_id": "run", "db_path": tmp_path / "r.sqlite",
                  "output_dir": tmp_path / "out", "episodes": 3, "save_video": False}
    values.update(kwargs)
    return EvalConfig(**values)


def test_evaluate_stores_every_episode_once(tmp_path) -> None:
    cfg = config(tmp_path)
    evaluate(cfg)
    evaluate(cfg)  # a second call with the same run id has nothing left to do
    with ResultsStore(cfg.db_path) as store:
        rows = store.episodes("run")
        assert [(r.task, r.episode) for r in rows] == [("_test_pulse", i) for i in range(3)]
        assert [r.seed for r in rows] == [eval_seed_start(0) + i for i in range(3)]
        assert all(r.success for r in rows)
        assert store.summary("run")["success_rate"].tolist() == [1.0]


def test_evaluate_extends_a_run(tmp_path) -> None:
    evaluate(config(tmp_path, episodes=2))
    evaluate(config(tmp_path, episodes=4))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        assert sorted(e for _, e in store.done("run")) == [0, 1, 2, 3]
        assert store.get_run("run").episodes == 4


def test_unsolvable_task_is_a_protocol_error(tmp_path) -> None:
    with pytest.raises(ProtocolError, match="_test_never"):
        evaluate(config(tmp_path, tasks=["_test_never"], episodes=1))


def test_config_rejects_bad_input(tmp_path) -> None:
    with pytest.raises(KeyError, match="no_such_task"):
        config(tmp_path, tasks=["no_such_task"])
    with pytest.raises(KeyError, match="no_such_policy"):
        config(tmp_path, policy="no_such_policy")
    with pytest.raises(ValueError):
        config(tmp_path, episodes=0)
    with pytest.raises(ValueError):
        config(tmp_path, instruction_kind="sometimes")


def outcomes(db: Path, run_id: str) -> list[tuple]:
    with ResultsStore(db) as store:
        return [(r.task, r.episode, r.seed, r.success, r.steps, r.instruction) for r in store.episodes(run_id)]


def test_same_seed_same_results(tmp_path) -> None:
    tasks = ["click_bell", "place_container_plate"]
    evaluate(config(tmp_path, policy="expert", tasks=tasks, episodes=2, run_id="a"))
    evaluate(config(tmp_path, policy="expert", tasks=tasks, episodes=2, run_id="b"))
    first, second = outcomes(tmp_path / "r.sqlite", "a"), outcomes(tmp_path / "r.sqlite", "b")
    assert first == second
    assert all(success for *_, success, _steps, _instr in first)
    evaluate(config(tmp_path, policy="expert", tasks=tasks, episodes=2, run_id="c", seed=1))
    assert [r[2] for r in outcomes(tmp_path / "r.sqlite", "c")][0] == eval_seed_start(1)


@pytest.mark.slow
@pytest.mark.ci
def test_workers_give_the_same_results(tmp_path) -> None:
    evaluate(config(tmp_path, policy="expert", tasks=["click_bell"], episodes=3, run_id="one"))
    evaluate(config(tmp_path, policy="expert", tasks=["click_bell"], episodes=3, run_id="two", workers=2))
    assert outcomes(tmp_path / "r.sqlite", "one") == outcomes(tmp_path / "r.sqlite", "two")


@pytest.mark.slow
@pytest.mark.ci
def test_killed_run_resumes_without_loss_or_duplicates(tmp_path) -> None:
    db = tmp_path / "kill.sqlite"
    command = [sys.executable, "-m", "eva_bench.cli", "run", "--policy", "expert", "--tasks", "click_bell",
               "--episodes", "5", "--run-id", "k", "--db", str(db), "--out", str(tmp_path / "out"), "--no-video"]
    env = dict(os.environ, EVA_BENCH_DEBUG="1")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:  # kill as soon as at least one episode is stored, mid-run
        if db.exists():
            with ResultsStore(db) as store:
                if store.get_run("k") and store.done("k"):
                    break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with ResultsStore(db) as store:
        stored_before = len(store.done("k"))
    assert 1 <= stored_before < 5, "the kill must happen mid-run"
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resumed = outcomes(db, "k")
    assert [r[1] for r in resumed] == [0, 1, 2, 3, 4]
    assert len({r[2] for r in resumed}) == 5
    evaluate(config(tmp_path, policy="expert", tasks=["click_bell"], episodes=5, run_id="ref", db_path=db))
    assert [r[2:] for r in resumed] == [r[2:] for r in outcomes(db, "ref")]
