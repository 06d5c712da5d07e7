"""The `eva-bench` CLI run as a subprocess: listings, one-line `error:` messages with exit status 2 for every
user mistake (nothing written then), results tables from a database filled here, and scene renders."""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eva_bench.cli.common import split_tasks as _split_tasks
from eva_bench.cli.run import option_pairs
from eva_bench.errors import UserError
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo

BUILTIN_TASKS = ("click_bell", "handover_block", "place_container_plate")
BUILTIN_POLICIES = ("expert", "idle", "random")
CAMERA_NAMES = ("head_camera", "front_camera", "left_camera", "right_camera")


def cli(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m eva_bench.cli ARGS` in tmp_path with the default database and outputs inside it."""
    env = {k: v for k, v in os.environ.items() if k != "EVA_BENCH_DEBUG"}
    env.update(EVA_BENCH_DB=str(default_db(tmp_path)), EVA_BENCH_OUTPUT=str(tmp_path / "outputs"),
               COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return subprocess.run([sys.executable, "-m", "eva_bench.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def default_db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "results.sqlite"


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The single `error:` line of a failed command (asserting exit status 2 and no traceback)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def assert_nothing_written(tmp_path: Path) -> None:
    assert not default_db(tmp_path).exists()
    assert not default_db(tmp_path).parent.exists()
    assert not (tmp_path / "outputs").exists()
    assert not (tmp_path / "eva_bench_results").exists()


# ------------------------------------------------------------------------------------------------ listings
def test_tasks_list_shows_step_limits_and_arms(tmp_path: Path) -> None:
    from eva_bench.task import TASKS

    proc = cli(tmp_path, "tasks", "list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["task", "version"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert set(BUILTIN_TASKS) <= set(rows)
    assert all(name in TASKS for name in rows)
    for name in BUILTIN_TASKS:
        cls = TASKS.get(name)
        _, version, step_limit, arms, *description = rows[name]
        assert int(version) == cls.version
        assert int(step_limit) == cls.step_limit
        assert arms == cls.arms
        assert " ".join(description) == cls.summary()
    assert list(rows) == sorted(rows)


def test_policies_list(tmp_path: Path) -> None:
    proc = cli(tmp_path, "policies", "list")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert set(BUILTIN_POLICIES) <= set(names)
    assert names == sorted(names)


def test_run_help_mentions_workers_and_run_id(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--help")
    assert proc.returncode == 0, proc.stderr
    for flag in ("--workers", "--run-id", "--policy", "--episodes"):
        assert flag in proc.stdout
    assert_nothing_written(tmp_path)


# ------------------------------------------------------------------------------------------------ run: bad input
def test_unknown_task(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--policy", "idle", "--tasks", "no_such_task", "--episodes", "1")
    line = error_line(proc)
    assert "'no_such_task'" in line
    available = line.split("Available:", 1)[1]
    for name in BUILTIN_TASKS:
        assert name in available
    assert_nothing_written(tmp_path)


def test_unknown_task_among_known_ones(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--policy", "idle", "--tasks", "click_bell,clik_bell", "--episodes", "1")
    line = error_line(proc)
    assert "'clik_bell'" in line
    assert "Did you mean 'click_bell'?" in line
    assert_nothing_written(tmp_path)


def test_unknown_policy_suggests_near_miss(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--policy", "expret", "--tasks", "click_bell", "--episodes", "1")
    line = error_line(proc)
    assert "'expret'" in line
    assert "Did you mean 'expert'?" in line
    for name in BUILTIN_POLICIES:
        assert name in line.split("Available:", 1)[1]
    assert_nothing_written(tmp_path)


def test_episodes_zero_is_a_usage_error(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--policy", "idle", "--tasks", "click_bell", "--episodes", "0")
    assert proc.returncode == 2
    assert "--episodes" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("flag", "value", "mentioned"),
    [("--instructions", "sometimes", "'sometimes'"), ("--policy-option", "novalue", "'novalue'"),
     ("--policy-option", "speed=3", "policy 'idle' has no option 'speed'; valid options: none"),
     ("--reward-idm", "/no/such/idm", "cannot load the reward IDM: no idm checkpoint at /no/such/idm"),
     ("--tasks", " , ", "--tasks is empty")],
)
def test_bad_run_flag_values(tmp_path: Path, flag: str, value: str, mentioned: str) -> None:
    proc = cli(tmp_path, "run", "--policy", "idle", "--tasks", "click_bell", "--episodes", "1", flag, value)
    line = error_line(proc)
    assert mentioned in line
    assert_nothing_written(tmp_path)


def test_policy_option_pairs_keep_text_for_the_config_to_parse() -> None:
    assert option_pairs([]) == {}
    parsed = option_pairs(["n=3", "on=true", "expr=a=b", " name =abc"])
    assert parsed == {"n": "3", "on": "true", "expr": "a=b", "name": "abc"}
    with pytest.raises(UserError, match="KEY=VALUE, got 'novalue'"):
        option_pairs(["n=1", "novalue"])
    with pytest.raises(UserError, match="KEY=VALUE, got '=3'"):
        option_pairs(["=3"])


def test_split_tasks() -> None:
    from eva_bench.task import TASKS

    # "all" means every real task; names starting with "_" are test fixtures (see conftest.py).
    assert _split_tasks("all") == [n for n in TASKS.names() if not n.startswith("_")]
    assert set(BUILTIN_TASKS) <= set(_split_tasks("all"))
    assert _split_tasks(" click_bell , handover_block ,") == ["click_bell", "handover_block"]
    with pytest.raises(UserError, match="empty"):
        _split_tasks(",")


# ------------------------------------------------------------------------------------------------ results: bad input
@pytest.mark.parametrize("command", [["results", "show", "--run-id", "x"], ["results", "list"],
                                     ["results", "export", "--run-id", "x", "--out", "copy.sqlite"]],
                         ids=["show", "list", "export"])
def test_unreadable_database_is_reported_and_left_untouched(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "junk.sqlite"
    content = np.random.default_rng(0).bytes(8192)
    assert not content.startswith(b"SQLite format 3")
    db.write_bytes(content)
    line = error_line(cli(tmp_path, *command, "--db", str(db)))
    assert str(db) in line
    assert db.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.sqlite"]  # no -wal/-shm sidecars, no default db


def test_sqlite_file_of_another_program_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    content = db.read_bytes()
    line = error_line(cli(tmp_path, "results", "list", "--db", str(db)))
    assert str(db) in line
    assert db.read_bytes() == content


def test_show_unknown_run(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    ResultsStore(db).close()
    line = error_line(cli(tmp_path, "results", "show", "--run-id", "ghost-run", "--db", str(db)))
    assert "'ghost-run'" in line
    assert str(db) in line


def test_export_unknown_run_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    ResultsStore(db).close()
    line = error_line(cli(tmp_path, "results", "export", "--run-id", "ghost-run", "--out", str(tmp_path / "c.sqlite"),
                          "--db", str(db)))
    assert "'ghost-run'" in line
    assert not (tmp_path / "c.sqlite").exists()


def test_show_bad_format(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    ResultsStore(db).close()
    line = error_line(cli(tmp_path, "results", "show", "--run-id", "r", "--format", "xml", "--db", str(db)))
    assert "'xml'" in line
    line = error_line(cli(tmp_path, "results", "show", "--run-id", "r", "--format", "xml"))
    assert "'xml'" in line
    assert not default_db(tmp_path).exists()  # the format is checked before the database is opened


# ------------------------------------------------------------------------------------------------ results: tables
OUTCOMES = {  # task -> successes per stored episode; a third task of the run has no episode yet
    "click_bell": [True, False, True],
    "handover_block": [False, True, False],
}
RUN_TASKS = [*OUTCOMES, "place_container_plate"]
EPISODES_PER_TASK = 3


@pytest.fixture
def populated_db(tmp_path: Path) -> Path:
    db = tmp_path / "filled.sqlite"
    with ResultsStore(db) as store:
        store.start_run(RunInfo(run_id="older", policy="random", checkpoint=None, seed=1, episodes=2,
                                instruction_kind="seen", tasks=["click_bell"], embodiment="test",
                                created_at="2000-01-01T00:00:00+00:00"))
        store.start_run(RunInfo(run_id="r1", policy="idle", checkpoint="/ck/policy", seed=0,
                                episodes=EPISODES_PER_TASK, instruction_kind="unseen", tasks=RUN_TASKS,
                                embodiment="test", checkpoint_digest="sha256:" + "ab" * 32, git_commit="c0ffee",
                                reward_idm="/ck/idm", reward_idm_digest="sha256:" + "cd" * 32,
                                reward_config={"camera": "head_camera", "resolution": [160, 120],
                                               "reward_config": {"p0": 2592.0}},
                                task_versions=dict.fromkeys(RUN_TASKS, 2)))
        for task, results in OUTCOMES.items():
            for i, success in enumerate(results):
                store.add_episode(EpisodeRecord(
                    run_id="r1", task=task, task_version=1, episode=i, seed=100 + i, instruction="do it",
                    success=success, steps=50 + 25 * i, step_limit=400, wall_time_s=0.5,
                ))
    return db


def task_rates() -> dict[str, float]:
    return {task: sum(results) / len(results) for task, results in OUTCOMES.items()}


def test_results_show_prints_the_run_settings(tmp_path: Path, populated_db: Path) -> None:
    proc = cli(tmp_path, "results", "show", "--run-id", "r1", "--db", str(populated_db))
    assert proc.returncode == 0, proc.stderr
    settings = proc.stdout.split("\n\n")[0]
    assert "- checkpoint: /ck/policy (digest abababababab)" in settings
    assert "- reward IDM: /ck/idm (digest cdcdcdcdcdcd), head_camera 160x120, P0 2592" in settings
    assert "commit c0ffee" in settings and "- task versions: all 2" in settings
    assert "3 episodes per task, seed 0 (evaluation seeds), unseen instructions, 3 task(s)" in settings


def test_results_show_markdown(tmp_path: Path, populated_db: Path) -> None:
    proc = cli(tmp_path, "results", "show", "--run-id", "r1", "--no-settings", "--db", str(populated_db))
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells
    assert list(rows) == [*RUN_TASKS, "**average**"]
    for task, results in OUTCOMES.items():
        assert rows[task][1] == f"{sum(results)}/{len(results)}"
        assert float(rows[task][2].rstrip("%")) == pytest.approx(100 * task_rates()[task], abs=0.05)
    assert rows["place_container_plate"][1:3] == ["0/0", "-"]
    total = sum(sum(r) for r in OUTCOMES.values()), sum(len(r) for r in OUTCOMES.values())
    assert rows["**average**"][1] == f"{total[0]}/{total[1]}"
    mean_rate = float(np.mean(list(task_rates().values())))
    assert float(rows["**average**"][2].rstrip("%")) == pytest.approx(100 * mean_rate, abs=0.05)


def test_results_show_csv(tmp_path: Path, populated_db: Path) -> None:
    proc = cli(tmp_path, "results", "show", "--run-id", "r1", "--format", "csv", "--db", str(populated_db))
    assert proc.returncode == 0, proc.stderr
    rows = {row["task"]: row for row in csv.DictReader(io.StringIO(proc.stdout))}
    assert list(rows) == [*RUN_TASKS, "average"]
    for task, results in OUTCOMES.items():
        assert int(rows[task]["episodes"]) == len(results)
        assert int(rows[task]["successes"]) == sum(results)
        assert float(rows[task]["success_rate"]) == pytest.approx(task_rates()[task], abs=1e-4)
    assert int(rows["place_container_plate"]["episodes"]) == 0
    mean_rate = float(np.mean(list(task_rates().values())))
    assert float(rows["average"]["success_rate"]) == pytest.approx(mean_rate, abs=1e-4)
    assert int(rows["average"]["episodes"]) == sum(len(r) for r in OUTCOMES.values())


def test_results_show_unknown_run_lists_known_runs(tmp_path: Path, populated_db: Path) -> None:
    line = error_line(cli(tmp_path, "results", "show", "--run-id", "r9", "--db", str(populated_db)))
    assert "'r9'" in line
    assert "r1" in line
    assert "older" in line


def test_results_list(tmp_path: Path, populated_db: Path) -> None:
    proc = cli(tmp_path, "results", "list", "--db", str(populated_db))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert [line.split()[0] for line in lines] == ["r1", "older"]  # newest first
    stored = sum(len(r) for r in OUTCOMES.values())
    assert re.search(rf"^r1\s+idle\s+{stored}/{EPISODES_PER_TASK * len(RUN_TASKS)}\s+episodes", lines[0])
    assert re.search(r"^older\s+random\s+0/2\s+episodes\s+2000-01-01", lines[1])


# ------------------------------------------------------------------------------------------------ render
def test_tasks_render_writes_one_png_per_camera(tmp_path: Path) -> None:
    import imageio.v3 as iio

    out = tmp_path / "renders"
    proc = cli(tmp_path, "tasks", "render", "click_bell", "--seed", "3", "--out", str(out),
               "--width", "64", "--height", "48")
    assert proc.returncode == 0, proc.stderr
    expected = {f"click_bell_seed3_{camera}.png" for camera in CAMERA_NAMES}
    assert {p.name for p in out.iterdir()} == expected
    for name in expected:
        assert str(out / name) in proc.stdout
        image = iio.imread(out / name)
        assert image.shape == (48, 64, 3)
        assert image.dtype == np.uint8
        assert len(np.unique(image.reshape(-1, 3), axis=0)) > 1  # not a single flat colour
    assert "instruction (seen):" in proc.stdout
    assert_nothing_written(tmp_path)


def test_tasks_sheet_tiles_the_tasks(tmp_path: Path) -> None:
    import imageio.v3 as iio

    out = tmp_path / "sheet.png"
    proc = cli(tmp_path, "tasks", "sheet", "--tasks", "click_bell,handover_block", "--out", str(out),
               "--width", "64", "--height", "48", "--columns", "2")
    assert proc.returncode == 0, proc.stderr
    sheet = iio.imread(out)
    assert sheet.shape[1] == 128 and sheet.shape[0] > 48  # two tiles side by side, with a label strip
    left, right = sheet[-48:, :64], sheet[-48:, 64:]
    assert not np.array_equal(left, right)  # two different scenes


def test_collect_rejects_bad_arguments(tmp_path: Path) -> None:
    out = tmp_path / "demos"
    assert "resolution" in error_line(cli(tmp_path, "collect", "--out", str(out), "--resolution", "big"))
    assert "head_camera" in error_line(cli(tmp_path, "collect", "--out", str(out), "--cameras", "left_camera"))
    assert "'nope'" in error_line(cli(tmp_path, "collect", "--out", str(out), "--tasks", "nope"))
    assert not out.exists()


def test_bench_idm_reports_throughput(tmp_path: Path) -> None:
    proc = cli(tmp_path, "bench", "idm", "--frames", "8")
    assert proc.returncode == 0, proc.stderr
    rates = [float(line.split()[-1].replace(",", "")) for line in proc.stdout.splitlines() if "frames/s" in line]
    assert len(rates) == 2 and all(rate > 0 for rate in rates)


def test_tasks_render_unknown_task(tmp_path: Path) -> None:
    out = tmp_path / "renders"
    line = error_line(cli(tmp_path, "tasks", "render", "no_such_task", "--out", str(out)))
    assert "'no_such_task'" in line
    assert not out.exists()


@pytest.mark.parametrize("command", [("results", "list"), ("results", "show", "--run-id", "x")])
def test_reading_a_missing_database_creates_nothing(tmp_path: Path, command) -> None:
    line = error_line(cli(tmp_path, *command))
    assert "no results database" in line
    assert_nothing_written(tmp_path)


def test_missing_vulkan_driver_is_explained(tmp_path: Path, monkeypatch) -> None:
    """With no Vulkan driver visible, `doctor` says how to fix it and `run` refuses cleanly, writing nothing."""
    monkeypatch.setenv("VK_ICD_FILENAMES", str(tmp_path / "no_such_icd.json"))
    proc = cli(tmp_path, "doctor")
    assert proc.returncode == 1
    assert "rendering   FAILED" in proc.stdout and "mesa-vulkan-drivers" in proc.stdout
    line = error_line(cli(tmp_path, "run", "--policy", "idle", "--tasks", "click_bell", "--episodes", "1"))
    assert "cannot render" in line and "Vulkan" in line
    assert_nothing_written(tmp_path)


def test_doctor_reports_a_working_renderer(tmp_path: Path) -> None:
    proc = cli(tmp_path, "doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rendering   OK" in proc.stdout and "sapien" in proc.stdout
