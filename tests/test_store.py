"""Tests of the results database: round trips, resuming runs, summaries, bad files, concurrency and crash safety."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from eva_bench.store import (
    SCHEMA_VERSION,
    EpisodeRecord,
    ResultsStore,
    RunInfo,
    RunMismatchError,
    SeedCheck,
    StoreError,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_run(run_id: str = "r1", **overrides) -> RunInfo:
    defaults = {
        "policy": "dummy", "checkpoint": None, "seed": 7, "episodes": 3, "instruction_kind": "seen",
        "tasks": ["lift", "stack"], "embodiment": "aloha:abc123", "policy_options": {"temperature": 0.5, "chunks": [1]},
    }
    return RunInfo(run_id=run_id, **{**defaults, **overrides})


def make_episode(run_id: str = "r1", task: str = "lift", episode: int = 0, **overrides) -> EpisodeRecord:
    defaults = {
        "task_version": 2, "seed": 1000 + episode, "instruction": f"do {task} {episode}", "success": False,
        "steps": 100 + episode, "step_limit": 300, "wall_time_s": 1.5,
    }
    return EpisodeRecord(run_id=run_id, task=task, episode=episode, **{**defaults, **overrides})


def test_run_round_trip(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "sub" / "dir" / "results.sqlite") as store:
        info = make_run(checkpoint="ckpt/model.pt", eva_bench_version="0.1.0", git_commit="deadbeef")
        stored = store.start_run(info)
        assert stored.created_at  # filled in
        got = store.get_run("r1")
        assert got == stored
        assert got.policy_options == {"temperature": 0.5, "chunks": [1]}
        assert got.checkpoint == "ckpt/model.pt"
        assert store.get_run("missing") is None
        store.start_run(make_run("r0", created_at="2000-01-01T00:00:00+00:00", checkpoint=None))
        assert store.get_run("r0").checkpoint is None
        store.start_run(make_run("r2"))
        assert [r.run_id for r in store.list_runs()] == ["r2", "r1", "r0"]


def test_episode_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    full = make_episode(
        episode=1, success=True, video_path="v/1.mp4", actions_path="a/1.npz", reward=0.75,
        reward_components={"reach": 0.5, "nested": {"a": [1, 2]}}, error="boom", created_at="2024-01-01T00:00:00",
    )
    bare = make_episode(episode=0)
    with ResultsStore(path) as store:
        store.start_run(make_run())
        assert store.add_episode(full) is True
        assert store.add_episode(bare) is True
        assert store.add_episode(make_episode(task="stack", episode=0)) is True
    with ResultsStore(path) as store:  # reopened: persisted
        lift = store.episodes("r1", "lift")
        assert [e.episode for e in lift] == [0, 1]
        assert lift[1] == full
        assert lift[0].created_at
        assert lift[0] == EpisodeRecord(**{**bare.__dict__, "created_at": lift[0].created_at})
        assert lift[0].reward is None and lift[0].reward_components is None and lift[0].error is None
        assert isinstance(lift[1].success, bool) and isinstance(lift[0].success, bool)
        assert [(e.task, e.episode) for e in store.episodes("r1")] == [("lift", 0), ("lift", 1), ("stack", 0)]
        assert store.done("r1") == {("lift", 0), ("lift", 1), ("stack", 0)}
        assert store.done("other") == set()


def test_add_episode_unknown_run(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store, pytest.raises(KeyError, match="unknown run id 'nope'"):
        store.add_episode(make_episode(run_id="nope"))


def test_duplicate_episode_is_ignored(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        store.start_run(make_run())
        assert store.add_episode(make_episode(success=True)) is True
        assert store.add_episode(make_episode(success=False, steps=1)) is False
        eps = store.episodes("r1")
        assert len(eps) == 1
        assert eps[0].success is True and eps[0].steps == 100


def test_seed_checks_and_task_seeds(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        a = SeedCheck("lift", 2, "aloha:abc", 3, True, expert_steps=120)
        b = SeedCheck("lift", 2, "aloha:abc", 4, False, reason="planning failure")
        other = SeedCheck("lift", 3, "aloha:abc", 3, False, reason="unstable scene")
        for check in (a, b, other):
            store.record_seed_check(check)
        assert store.seed_checks("lift", 2, "aloha:abc") == {3: a, 4: b}
        updated = SeedCheck("lift", 2, "aloha:abc", 4, True, expert_steps=99)
        store.record_seed_check(updated)
        got = store.seed_checks("lift", 2, "aloha:abc")
        assert got[4] == updated and got[4].expert_steps == 99 and got[4].reason == ""
        assert got[3].expert_steps == 120 and got[3].solvable is True
        assert store.seed_checks("lift", 3, "aloha:abc") == {3: other}
        assert store.seed_checks("lift", 2, "franka") == {}

        assert store.task_seeds("r1", "lift") is None
        store.set_task_seeds("r1", "lift", [5, 3, 9], 2)
        assert store.task_seeds("r1", "lift") == ([5, 3, 9], 2)
        store.set_task_seeds("r1", "lift", [5, 3, 9, 11], 4)
        assert store.task_seeds("r1", "lift") == ([5, 3, 9, 11], 4)


def test_resume_extends_run(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        first = store.start_run(make_run(episodes=3, tasks=["lift", "stack"], git_commit="aaa"))
        again = store.start_run(make_run(episodes=2, tasks=["pour", "lift"], git_commit="bbb"))
        assert again.episodes == 3
        assert again.tasks == ["lift", "stack", "pour"]
        assert again.created_at == first.created_at and again.git_commit == "aaa"
        more = store.start_run(make_run(episodes=10, tasks=["stack"]))
        assert more.episodes == 10 and more.tasks == ["lift", "stack", "pour"]
        assert store.get_run("r1") == more
        assert len(store.list_runs()) == 1


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("policy", "other", "stored 'dummy', requested 'other'"),
        ("checkpoint", "x.pt", "stored None, requested 'x.pt'"),
        ("seed", 8, "stored 7, requested 8"),
        ("instruction_kind", "unseen", "stored 'seen', requested 'unseen'"),
        ("embodiment", "franka:1", "requested 'franka:1'"),
        ("policy_options", {"temperature": 0.6, "chunks": [1]}, "'temperature': 0.6"),
        ("checkpoint_digest", "sha256:1234", "stored '', requested 'sha256:1234'"),  # weights replaced
        ("reward_idm_digest", "sha256:99", "stored '', requested 'sha256:99'"),
    ],
)
def test_resume_mismatch(tmp_path: Path, field: str, value: object, shown: str) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        store.start_run(make_run())
        with pytest.raises(RunMismatchError, match=field) as excinfo:
            store.start_run(make_run(**{field: value}))
        assert shown in str(excinfo.value)
        assert store.get_run("r1").tasks == ["lift", "stack"]  # unchanged


def test_bad_instruction_kind(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store, pytest.raises(ValueError, match="instruction_kind"):
        store.start_run(make_run(instruction_kind="both"))


def test_summary(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        store.start_run(make_run(tasks=["lift", "stack", "pour"]))
        store.add_episode(make_episode(task="lift", episode=0, success=True, steps=10, reward=1.0))
        store.add_episode(make_episode(task="lift", episode=1, success=False, steps=20, reward=0.0))
        store.add_episode(make_episode(task="lift", episode=2, success=True, steps=60, error="crash"))
        store.add_episode(make_episode(task="stack", episode=0, success=False, steps=5))
        store.set_task_seeds("r1", "lift", [1, 2, 3], 4)
        df = store.summary("r1")
        assert list(df.columns) == [
            "task", "episodes", "successes", "success_rate", "mean_steps", "skipped_seeds", "errors", "mean_reward",
        ]
        assert list(df["task"]) == ["lift", "stack", "pour"]
        lift, stack, pour = (df.iloc[i] for i in range(3))
        assert (lift["episodes"], lift["successes"], lift["skipped_seeds"], lift["errors"]) == (3, 2, 4, 1)
        assert lift["success_rate"] == pytest.approx(2 / 3)
        assert lift["mean_steps"] == pytest.approx(30.0)
        assert lift["mean_reward"] == pytest.approx(0.5)
        assert (stack["episodes"], stack["successes"], stack["skipped_seeds"], stack["errors"]) == (1, 0, 0, 0)
        assert stack["success_rate"] == 0.0 and stack["mean_steps"] == 5.0 and math.isnan(stack["mean_reward"])
        assert (pour["episodes"], pour["successes"], pour["errors"]) == (0, 0, 0)
        assert math.isnan(pour["success_rate"]) and math.isnan(pour["mean_steps"])
        with pytest.raises(KeyError, match="unknown run id 'missing'"):
            store.summary("missing")


def test_corrupt_file_is_rejected_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    data = b"not a database" * 100
    path.write_bytes(data)
    with pytest.raises(StoreError, match="not a SQLite") as excinfo:
        ResultsStore(path)
    assert str(path) in str(excinfo.value) and "\n" not in str(excinfo.value)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]


def test_damaged_sqlite_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    data = b"SQLite format 3\x00" + b"\xff" * 4000
    path.write_bytes(data)
    with pytest.raises(StoreError, match=str(path)):
        ResultsStore(path)
    assert path.read_bytes() == data


def test_foreign_sqlite_is_rejected_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.execute("INSERT INTO users VALUES ('a')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_empty_sqlite_file_is_initialised(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with ResultsStore(path) as store:
        store.start_run(make_run())
    with ResultsStore(path) as store:
        assert store.get_run("r1") is not None


def test_newer_schema_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    ResultsStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        ResultsStore(path)


def test_schema_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """A database written before runs recorded their reward IDM keeps its runs and gains the column."""
    path = tmp_path / "db.sqlite"
    with ResultsStore(path) as store:
        store.start_run(make_run())
    conn = sqlite3.connect(path)  # turn it back into a schema-1 file
    conn.execute("ALTER TABLE runs DROP COLUMN reward_idm")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with ResultsStore(path) as store:
        run = store.get_run("r1")
        assert run is not None and run.reward_idm == ""
        store.start_run(replace(make_run(run_id="r2"), reward_idm="ckpt/idm"))
        assert store.get_run("r2").reward_idm == "ckpt/idm"
        with pytest.raises(RunMismatchError, match="reward_idm"):
            store.start_run(replace(make_run(run_id="r2"), reward_idm="other"))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


def test_schema_2_database_gains_the_provenance_columns(tmp_path: Path) -> None:
    """A schema-2 file keeps its runs (read with empty digests) and records digests from then on."""
    path = tmp_path / "db.sqlite"
    with ResultsStore(path) as store:
        store.start_run(make_run())
    conn = sqlite3.connect(path)  # turn it back into a schema-2 file
    for column in ("checkpoint_digest", "reward_idm_digest", "reward_config", "policy_config", "task_versions",
                   "checkpoint_info"):
        conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with ResultsStore(path) as store:
        old = store.get_run("r1")
        assert (old.checkpoint_digest, old.reward_config, old.task_versions) == ("", {}, {})
        new = replace(make_run(run_id="r2"), checkpoint_digest="sha256:aa", git_commit="abc",
                      reward_config={"digest": "sha256:bb", "resolution": [160, 120]}, task_versions={"lift": 3})
        store.start_run(new)
        stored = store.get_run("r2")
        assert (stored.checkpoint_digest, stored.git_commit, stored.reward_config, stored.task_versions) == (
            "sha256:aa", "abc", {"digest": "sha256:bb", "resolution": [160, 120]}, {"lift": 3})


def test_schema_4_database_reads_its_runs_as_evaluation_seeds(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with ResultsStore(path) as store:
        store.start_run(make_run())
    conn = sqlite3.connect(path)  # turn it back into a schema-4 file
    conn.execute("ALTER TABLE runs DROP COLUMN seed_split")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with ResultsStore(path) as store:
        assert store.get_run("r1").seed_split == "evaluation"
        with pytest.raises(RunMismatchError, match="seed_split"):
            store.start_run(make_run(seed_split="validation"))
        store.start_run(make_run(run_id="r2", seed_split="validation"))
        assert store.get_run("r2").seed_split == "validation"
        with pytest.raises(ValueError, match="seed_split"):
            store.start_run(make_run(run_id="r3", seed_split="test"))


def test_task_version_change_refuses_resume_but_new_tasks_join(tmp_path: Path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        store.start_run(make_run(task_versions={"lift": 1, "stack": 1}))
        with pytest.raises(RunMismatchError, match="task stack version: stored 1, now 2"):
            store.start_run(make_run(task_versions={"lift": 1, "stack": 2}))
        resumed = store.start_run(make_run(tasks=["lift", "push"], task_versions={"lift": 1, "push": 4}))
        assert resumed.task_versions == {"lift": 1, "stack": 1, "push": 4}


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="directory"):
        ResultsStore(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="parent"):
        ResultsStore(blocker / "sub" / "db.sqlite")


def _concurrent_writer(path: str, worker: int) -> int:
    """Run in a spawned process: start the shared run, insert 50 own episodes, then duplicates."""
    inserted = 0
    with ResultsStore(path) as store:
        store.start_run(make_run("shared", tasks=[f"t{worker}"]))
        for i in range(50):
            inserted += store.add_episode(make_episode("shared", task="t", episode=worker * 50 + i))
        for i in range(10):  # own duplicates (always ignored) and the next worker's episodes (maybe ignored)
            assert not store.add_episode(make_episode("shared", task="t", episode=worker * 50 + i))
            inserted += store.add_episode(make_episode("shared", task="t", episode=((worker + 1) % 4) * 50 + i))
    return inserted


def test_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        inserted = pool.starmap(_concurrent_writer, [(str(path), w) for w in range(4)])
    assert sum(inserted) == 200
    with ResultsStore(path) as store:
        assert sorted(e.episode for e in store.episodes("shared")) == list(range(200))
        assert sorted(store.get_run("shared").tasks) == ["t0", "t1", "t2", "t3"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 200
    conn.close()


_KILL_CHILD = """
import sys
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo
store = ResultsStore(sys.argv[1])
store.start_run(RunInfo("k", "dummy", None, 0, 100000, "seen", ["t"], "emb"))
for i in range(100000):
    store.add_episode(EpisodeRecord("k", "t", 1, i, 5000 + i, "x" * (i % 500), i % 2 == 0, i, 300, i / 10,
                                    reward=i / 7, reward_components={"i": i, "pad": "y" * (i % 300)}))
    sys.stdout.write(f"{i}\\n")
    sys.stdout.flush()
"""


def test_kill_during_writes_keeps_prefix(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILL_CHILD, str(path)], stdout=subprocess.PIPE, env=env, text=True
    )
    acknowledged = -1
    deadline = time.monotonic() + 15
    try:
        while acknowledged < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged = int(line)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        child.stdout.close()
    assert acknowledged >= 40, "child did not write episodes"
    assert child.returncode == -signal.SIGKILL
    with ResultsStore(path) as store:
        eps = store.episodes("k")
        k = len(eps)
        assert k >= acknowledged + 1  # every acknowledged episode is durable
        assert [e.episode for e in eps] == list(range(k))
        for i, e in enumerate(eps):
            assert (e.seed, e.instruction, e.success, e.steps) == (5000 + i, "x" * (i % 500), i % 2 == 0, i)
            assert e.reward == pytest.approx(i / 7)
            assert e.reward_components == {"i": i, "pad": "y" * (i % 300)}
        assert store.add_episode(EpisodeRecord("k", "t", 1, k, 0, "", True, 1, 1, 0.0)) is True  # writable again
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_export_copies_the_named_runs_with_paths_made_relative(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    with ResultsStore(tmp_path / "live.sqlite") as store:
        store.start_run(make_run("keep", checkpoint=f"{root}/ckpt", reward_config={"idm": f"{root}/idm"}))
        store.start_run(make_run("other"))
        store.add_episode(make_episode("keep", video_path=f"{root}/eps/0.mp4", policy_metrics={"gap": 1.0}))
        store.add_episode(make_episode("other", video_path="/elsewhere/0.mp4"))
        store.set_task_seeds("keep", "lift", [1000], 0)
        store.record_seed_check(SeedCheck("lift", 2, "aloha:abc123", 1000, True, expert_steps=90))
        assert store.export_runs(["keep"], tmp_path / "copy.sqlite", strip_prefix=f"{root}/") == 1
        with pytest.raises(StoreError, match="exists"):  # never overwrites
            store.export_runs(["keep"], tmp_path / "copy.sqlite")
        with pytest.raises(StoreError, match="no run 'ghost'"):
            store.export_runs(["keep", "ghost"], tmp_path / "ghost.sqlite")
        assert not (tmp_path / "ghost.sqlite").exists()
        original = store.get_run("keep")
    assert not (tmp_path / "copy.sqlite-wal").exists()
    with ResultsStore(tmp_path / "copy.sqlite", create=False) as copy:
        assert [r.run_id for r in copy.list_runs()] == ["keep"]
        run = copy.get_run("keep")
        assert run.checkpoint == "ckpt" and run.reward_config == {"idm": "idm"}
        assert replace(run, checkpoint=original.checkpoint, reward_config=original.reward_config) == original
        (episode,) = copy.episodes("keep")
        assert episode.video_path == "eps/0.mp4" and episode.policy_metrics == {"gap": 1.0}
        assert copy.task_seeds("keep", "lift") == ([1000], 0)
        assert copy.seed_checks("lift", 2, "aloha:abc123")[1000].expert_steps == 90
