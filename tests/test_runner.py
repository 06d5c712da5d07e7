"""The evaluation protocol: step limit, success stop, seeds, storage, determinism and resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from eva_bench.checkpoint import git_commit, read_checkpoint
from eva_bench.errors import ProtocolError, UserError
from eva_bench.paths import released_idm_dir
from eva_bench.policy import POLICIES, Policy
from eva_bench.runner import EpisodeJob, EvalConfig, eval_seed_start, evaluate, play_episode
from eva_bench.store import ResultsStore, RunInfo, RunMismatchError
from eva_bench.task import TASKS
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
    with pytest.raises(ValueError, match="episodes must be >= 1, got 0"):
        config(tmp_path, episodes=0)
    with pytest.raises(ValueError, match="instruction kind must be 'seen' or 'unseen', got 'sometimes'"):
        config(tmp_path, instruction_kind="sometimes")
    with pytest.raises(UserError, match="policy 'idle' has no option 'speed'"):
        config(tmp_path, policy_options={"speed": "3"})


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
    evaluate(config(tmp_path, policy="expert", tasks=tasks[:1], episodes=1, run_id="v", seed_split="validation"))
    validation = outcomes(tmp_path / "r.sqlite", "v")[0][2]
    assert validation == eval_seed_start(0, "validation") == 50000  # neither training nor evaluation seeds


def test_validation_seeds_never_meet_evaluation_or_training_seeds() -> None:
    from eva_bench.runner import MAX_CANDIDATES_PER_EPISODE

    span = MAX_CANDIDATES_PER_EPISODE * 1000  # every candidate of a 1000-episode task
    for seed in range(4):
        start = eval_seed_start(seed, "validation")
        validation = set(range(start, start + span))
        evaluation = {s for r in range(5) for s in range(eval_seed_start(r), eval_seed_start(r) + span)}
        assert start >= 50000 and not validation & evaluation
    with pytest.raises(ValueError, match="seed split"):
        eval_seed_start(0, "test")


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


# ---------------------------------------------------------------------------------------------- policy seams
class _CountingPolicy(Policy):
    """Returns chunks of 5 copies of the current command; records every construction and observation."""

    name = "_test_counting"
    execute_steps = 2
    built: ClassVar[list] = []
    seen: ClassVar[list] = []

    def __init__(self, config=None, checkpoint=None) -> None:
        super().__init__(config, checkpoint)
        _CountingPolicy.built.append(self)

    def act(self, obs: dict) -> np.ndarray:
        _CountingPolicy.seen.append(obs["joint_action"]["vector"].copy())
        return np.repeat(obs["joint_action"]["vector"][None], 5, axis=0) - 0.01 * len(_CountingPolicy.seen)


class _RaisingPolicy(Policy):
    """Fails on episodes with an even seed, holds still on the others."""

    name = "_test_raising"

    def reset(self, task: str, instruction: str, seed: int) -> None:
        self.fail = seed % 2 == 0

    def act(self, obs: dict) -> np.ndarray:
        if self.fail:
            raise RuntimeError("policy exploded")
        return obs["joint_action"]["vector"][None]


class _WatchingPolicy(Policy):
    """Observes every step, reports how many frames it saw and returns them as a video."""

    name = "_test_watching"
    cameras = ("head_camera",)
    observes_steps = True
    execute_steps = 2

    def reset(self, task: str, instruction: str, seed: int) -> None:
        self.frames, self.acts = [], 0

    def observe(self, obs: dict) -> None:
        self.frames.append(obs["observation"]["head_camera"]["rgb"])

    def act(self, obs: dict) -> np.ndarray:
        self.acts += 1
        return np.repeat(obs["joint_action"]["vector"][None], 3, 0)

    def episode_metrics(self) -> dict:
        return {"observed": len(self.frames), "acts": self.acts}

    def episode_videos(self) -> dict:
        return {"seen": self.frames}


for _policy in (_CountingPolicy, _RaisingPolicy, _WatchingPolicy):
    if _policy.name not in POLICIES:
        POLICIES.register(_policy.name, _policy)


def test_receding_horizon_executes_execute_steps_then_observes_again(tmp_path) -> None:
    _CountingPolicy.built.clear()
    _CountingPolicy.seen.clear()
    record = play_episode(job("_test_never", str(tmp_path), policy="_test_counting"))
    executed = np.load(record.actions_path)["actions"]
    assert record.steps == 5 and len(_CountingPolicy.seen) == 3  # 2 + 2 + 1 of the step limit
    np.testing.assert_allclose(executed[[0, 1]], executed[[0, 0]])  # the first chunk's first two actions
    assert not np.allclose(executed[2], executed[1])  # then a new chunk
    np.testing.assert_array_equal(_CountingPolicy.seen[1], executed[1])  # observed after 2 steps


def test_a_watching_policy_sees_every_step_and_its_metrics_and_videos_are_kept(tmp_path) -> None:
    record = play_episode(job("_test_never", str(tmp_path), policy="_test_watching", video=True))
    metrics = dict(record.policy_metrics)
    seen = Path(record.video_path).with_name("episode000_seen.mp4")
    assert metrics.pop("videos") == {"seen": str(seen)} and len(read_mp4(seen)) == 5
    assert metrics == {"observed": 5, "acts": 3}  # 5 steps, chunks of 2 executed: 2 + 2 + 1
    with ResultsStore(tmp_path / "r.sqlite") as store:  # the database keeps them
        store.start_run(RunInfo(run_id="r", policy="_test_watching", checkpoint=None, seed=0, episodes=1,
                                instruction_kind="unseen", tasks=["_test_never"], embodiment="e", policy_options={}))
        store.add_episode(record)
        assert store.episodes("r")[0].policy_metrics == record.policy_metrics


def test_a_policy_that_raises_fails_its_episode_and_the_run_goes_on(tmp_path) -> None:
    cfg = config(tmp_path, policy="_test_raising", episodes=2, run_id="raising", reward_idm="none")
    evaluate(cfg)
    with ResultsStore(cfg.db_path) as store:
        rows = store.episodes("raising")
    assert [r.seed % 2 for r in rows] == [0, 1]
    assert "RuntimeError: policy exploded" in rows[0].error and not rows[0].success
    assert rows[1].error is None


def test_the_runner_builds_a_policy_once_per_worker(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("eva_bench.runner._WORKER_POLICIES", {})  # this process is the one worker
    _CountingPolicy.built.clear()
    evaluate(config(tmp_path, policy="_test_counting", episodes=3, reward_idm="none"))
    assert len(_CountingPolicy.built) == 1


def test_reward_idm_none_stores_no_rewards_and_the_run_says_so(tmp_path) -> None:
    evaluate(config(tmp_path, episodes=1, reward_idm="none"))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        info, rows = store.get_run("run"), store.episodes("run")
    assert (info.reward_idm, info.reward_idm_digest, info.reward_config) == ("", "", {})
    assert rows[0].reward is None and rows[0].reward_components is None


def test_a_missing_default_reward_idm_is_an_error_not_silence(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EVA_BENCH_IDM", str(tmp_path / "no_idm"))
    with pytest.raises(UserError, match=r"cannot load the default reward IDM .*--reward-idm none"):
        config(tmp_path)


def test_run_row_names_digests_commit_and_task_versions(tmp_path) -> None:
    evaluate(config(tmp_path, policy="idm-oracle", tasks=["click_bell"], episodes=1))
    released = read_checkpoint(released_idm_dir())
    with ResultsStore(tmp_path / "r.sqlite") as store:
        info, (row,) = store.get_run("run"), store.episodes("run")
    assert info.checkpoint_digest == info.reward_idm_digest == released.digest
    assert info.git_commit == git_commit() and len(info.git_commit) >= 40  # the suite runs in a git checkout
    assert info.reward_config["resolution"] == [160, 120] and info.reward_config["reward_config"]["p0"] > 1
    assert info.task_versions == {"click_bell": TASKS.get("click_bell").version}
    assert info.policy_config == {"video_size": "", "binary_grippers": True, "autoencoder": ""}
    assert row.reward is not None and 0 < row.reward <= 1


def test_resuming_after_a_task_version_bump_is_refused(tmp_path, monkeypatch) -> None:
    evaluate(config(tmp_path, episodes=1, reward_idm="none"))
    monkeypatch.setattr(TASKS.get("_test_pulse"), "version", TASKS.get("_test_pulse").version + 1)
    with pytest.raises(RunMismatchError, match=r"task _test_pulse version: stored \d+, now \d+"):
        evaluate(config(tmp_path, episodes=2, reward_idm="none"))


def test_the_reward_view_is_rendered_at_the_idm_source_beside_the_video(tmp_path) -> None:
    released = str(released_idm_dir())
    with_video = play_episode(EpisodeJob("r", "idle", None, (), "_test_never", 0, 100000, "unseen", str(tmp_path),
                                         True, released))
    without = play_episode(EpisodeJob("r2", "idle", None, (), "_test_never", 0, 100000, "unseen", str(tmp_path),
                                      False, released))
    assert read_mp4(with_video.video_path).shape[1:] == (240, 320, 3)  # the saved video keeps its size
    # The reward does not depend on what else is rendered: same view (head camera at 160x120) either way.
    assert with_video.reward is not None and with_video.reward == without.reward
