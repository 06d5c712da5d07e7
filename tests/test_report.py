"""success_table: markdown and CSV output, the average row (mean over played tasks only), bad formats."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eva_bench.report.tables import success_table
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo

SUMMARY_COLUMNS = ["task", "episodes", "successes", "success_rate", "mean_steps", "skipped_seeds", "errors",
                   "mean_reward"]
TABLE_COLUMNS = SUMMARY_COLUMNS[:-1]


def make_summary(rows: list[dict]) -> pd.DataFrame:
    """A frame shaped like `ResultsStore.summary`: success_rate derived from successes/episodes (NaN when 0)."""
    filled = []
    for row in rows:
        episodes, successes = row["episodes"], row["successes"]
        rate = successes / episodes if episodes else math.nan
        filled.append({"success_rate": rate, "mean_reward": math.nan, "skipped_seeds": 0, "errors": 0, **row})
    frame = pd.DataFrame(filled)[SUMMARY_COLUMNS]
    return frame.astype({"episodes": int, "successes": int, "skipped_seeds": int, "errors": int})


ROWS = [
    {"task": "lift", "episodes": 3, "successes": 2, "mean_steps": 120.0, "skipped_seeds": 1, "errors": 0},
    {"task": "stack", "episodes": 4, "successes": 1, "mean_steps": 301.5, "skipped_seeds": 0, "errors": 2},
    {"task": "unplayed", "episodes": 0, "successes": 0, "mean_steps": math.nan, "skipped_seeds": 3, "errors": 0},
]


def md_rows(text: str) -> list[list[str]]:
    """The body rows of a markdown table, each split into stripped cells."""
    lines = text.strip("\n").split("\n")
    assert lines[0].startswith("| task |")
    assert set(lines[1].replace("|", "").replace("-", "").replace(":", "")) == set()
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def expected_average(rows: list[dict]) -> tuple[float, float]:
    played = [r for r in rows if r["episodes"] > 0]
    rate = sum(r["successes"] / r["episodes"] for r in played) / len(played)
    steps = sum(r["mean_steps"] for r in played) / len(played)
    return rate, steps


def test_markdown_has_one_row_per_task_and_average() -> None:
    text = success_table(make_summary(ROWS))
    assert text.endswith("\n")
    body = md_rows(text)
    assert [r[0] for r in body] == [r["task"] for r in ROWS] + ["**average**"]
    for cells, row in zip(body[:-1], ROWS, strict=True):
        assert cells[1] == f"{row['successes']}/{row['episodes']}"
        assert cells[4] == str(row["skipped_seeds"])
        assert cells[5] == str(row["errors"])
        if row["episodes"]:
            assert float(cells[2].rstrip("%")) == pytest.approx(100 * row["successes"] / row["episodes"], abs=0.05)
            assert float(cells[3]) == pytest.approx(row["mean_steps"], abs=0.5)
        else:
            assert cells[2] == "-"
            assert cells[3] == "-"
    average = body[-1]
    rate, steps = expected_average(ROWS)
    assert average[1] == f"{sum(r['successes'] for r in ROWS)}/{sum(r['episodes'] for r in ROWS)}"
    assert float(average[2].rstrip("%")) == pytest.approx(100 * rate, abs=0.05)
    assert float(average[3]) == pytest.approx(steps, abs=0.5)
    assert average[4] == str(sum(r["skipped_seeds"] for r in ROWS))
    assert average[5] == str(sum(r["errors"] for r in ROWS))


def test_average_is_mean_of_task_rates_not_pooled() -> None:
    rows = ROWS[:2]
    rate, _ = expected_average(rows)
    pooled = sum(r["successes"] for r in rows) / sum(r["episodes"] for r in rows)
    assert abs(rate - pooled) > 0.01  # the data tells the two apart
    average = md_rows(success_table(make_summary(rows)))[-1]
    assert float(average[2].rstrip("%")) == pytest.approx(100 * rate, abs=0.05)


@pytest.mark.parametrize("unplayed_rate", [math.nan, 0.0])
def test_task_without_episodes_does_not_count_in_average(unplayed_rate: float) -> None:
    summary = make_summary(ROWS)
    summary.loc[summary["episodes"] == 0, ["success_rate", "mean_steps"]] = unplayed_rate
    table = pd.read_csv(io.StringIO(success_table(summary, "csv")))
    rate, steps = expected_average(ROWS)
    average = table[table["task"] == "average"].iloc[0]
    assert average["success_rate"] == pytest.approx(rate, abs=1e-4)
    assert average["mean_steps"] == pytest.approx(steps, abs=1e-4)


def test_csv_round_trip() -> None:
    summary = make_summary(ROWS)
    text = success_table(summary, "csv")
    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns) == TABLE_COLUMNS  # mean_reward is not part of the table
    assert list(table["task"]) == [r["task"] for r in ROWS] + ["average"]
    for column in ("episodes", "successes", "skipped_seeds", "errors"):
        assert list(table[column].iloc[:-1]) == list(summary[column])
        assert table[column].iloc[-1] == summary[column].sum()
    for column in ("success_rate", "mean_steps"):
        np.testing.assert_allclose(table[column].iloc[:-1], summary[column], atol=1e-4, equal_nan=True)
    rate, steps = expected_average(ROWS)
    assert table["success_rate"].iloc[-1] == pytest.approx(rate, abs=1e-4)
    assert table["mean_steps"].iloc[-1] == pytest.approx(steps, abs=1e-4)


def test_input_frame_is_not_modified() -> None:
    summary = make_summary(ROWS)
    before = summary.copy()
    success_table(summary, "md")
    success_table(summary, "csv")
    pd.testing.assert_frame_equal(summary, before)


def test_no_played_task_gives_empty_average_rate() -> None:
    rows = [{"task": "a", "episodes": 0, "successes": 0, "mean_steps": math.nan},
            {"task": "b", "episodes": 0, "successes": 0, "mean_steps": math.nan}]
    average = md_rows(success_table(make_summary(rows)))[-1]
    assert average[:4] == ["**average**", "0/0", "-", "-"]
    table = pd.read_csv(io.StringIO(success_table(make_summary(rows), "csv")))
    assert math.isnan(table["success_rate"].iloc[-1])


@pytest.mark.parametrize("fmt", ["xml", "MD", "", "markdown"])
def test_invalid_format_raises(fmt: str) -> None:
    with pytest.raises(ValueError, match="format"):
        success_table(make_summary(ROWS), fmt)


def test_table_from_store_summary(tmp_path: Path) -> None:
    outcomes = {"lift": [True, True, False], "stack": [False, True]}
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.start_run(RunInfo(run_id="r", policy="idle", checkpoint=None, seed=0, episodes=3,
                                instruction_kind="unseen", tasks=[*outcomes, "never"], embodiment="test"))
        for task, results in outcomes.items():
            for i, ok in enumerate(results):
                store.add_episode(EpisodeRecord(run_id="r", task=task, task_version=1, episode=i, seed=i,
                                                instruction="x", success=ok, steps=10 * (i + 1), step_limit=100,
                                                wall_time_s=0.1))
        summary = store.summary("r")
    body = md_rows(success_table(summary))
    assert [r[0] for r in body] == [*outcomes, "never", "**average**"]
    for cells, results in zip(body[:2], outcomes.values(), strict=True):
        assert cells[1] == f"{sum(results)}/{len(results)}"
    assert body[2][1:3] == ["0/0", "-"]
    rate = np.mean([sum(r) / len(r) for r in outcomes.values()])
    assert float(body[-1][2].rstrip("%")) == pytest.approx(100 * rate, abs=0.05)


def test_mean_reward_column_appears_only_when_rewards_exist() -> None:
    rows = [{**ROWS[0], "mean_reward": 0.5}, {**ROWS[1], "mean_reward": 0.2}, ROWS[2]]
    body = md_rows(success_table(make_summary(rows)))
    assert [cells[-1] for cells in body] == ["0.500", "0.200", "-", "0.350"]
    table = pd.read_csv(io.StringIO(success_table(make_summary(rows), "csv")))
    assert table["mean_reward"].iloc[-1] == pytest.approx(0.35)
    assert "mean reward" not in success_table(make_summary(ROWS))  # no rewards: the column is left out


def test_table2_puts_each_run_beside_the_papers_table_s1(tmp_path) -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app
    from eva_bench.report.table2 import PAPER_TABLE_S1

    db = tmp_path / "db.sqlite"
    with ResultsStore(db) as store:
        for run_id, wins in (("a", {"click_bell": 3, "turn_switch": 0}), ("b", {"click_bell": 1})):
            store.start_run(RunInfo(run_id=run_id, policy="dp", checkpoint=None, seed=0, episodes=4,
                                    instruction_kind="seen", tasks=list(wins), embodiment="e"))
            for task, won in wins.items():
                for episode in range(4):
                    store.add_episode(EpisodeRecord(run_id=run_id, task=task, task_version=1, episode=episode,
                                                    seed=episode, instruction="x", success=episode < won, steps=5,
                                                    step_limit=9, wall_time_s=1.0))
    run = CliRunner().invoke(app, ["report", "table2", "--run", "DP=a", "--run", "B=b", "--db", str(db), "--out",
                                   str(tmp_path / "o")])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(tmp_path / "o" / "table2.csv").set_index("task")
    assert len(table) == len(PAPER_TABLE_S1) + 1
    assert table.loc["click_bell", "DP"] == "3/4" and table.loc["turn_switch", "DP"] == "0/4"
    assert table.loc["click_bell", "paper DP"] == "11/20" and pd.isna(table.loc["turn_switch", "B"])
    assert table.loc["average", "DP rate"] == pytest.approx(0.375)  # mean of 3/4 and 0/4
    assert table.loc["average", "paper EVA"] == "52.6%" and table.loc["average", "paper ACT"] == "29.0%"
    markdown = (tmp_path / "o" / "table2.md").read_text()
    assert "| DP (2 tasks) | B (1 task) |" in markdown
    bad = CliRunner().invoke(app, ["report", "table2", "--run", "nolabel", "--db", str(db)])
    assert bad.exit_code != 0 and "LABEL=RUN_ID" in str(bad.exception or bad.output)
    missing = CliRunner().invoke(app, ["report", "table2", "--run", "X=zzz", "--db", str(db)])
    assert missing.exit_code != 0 and "no run 'zzz'" in str(missing.exception or missing.output)


def test_the_gap_report_averages_each_tasks_world_model_metrics(tmp_path) -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app

    db = tmp_path / "db.sqlite"
    with ResultsStore(db) as store:
        for run_id, policy in (("wm", "eva-norl"), ("dp", "dp")):
            store.start_run(RunInfo(run_id=run_id, policy=policy, checkpoint=None, seed=0, episodes=2,
                                    instruction_kind="seen", tasks=["click_bell", "turn_switch"], embodiment="e"))
        for task, psnrs in (("click_bell", (20.0, 22.0)), ("turn_switch", (18.0, 19.0))):
            for episode, value in enumerate(psnrs):
                metrics = {"gap_psnr_db": value, "gap_ssim": 0.5 + episode / 10, "imagined_reward": 0.2,
                           "gap_robot_psnr_db": None if episode else value - 6, "static_share": 0.0,
                           "gripper_out_of_range": 0.1, "imagine_s": 1.0}
                for run_id in ("wm", "dp"):
                    store.add_episode(EpisodeRecord(
                        run_id=run_id, task=task, task_version=1, episode=episode, seed=episode, instruction="x",
                        success=task == "click_bell" and episode == 0, steps=5, step_limit=9, wall_time_s=1.0,
                        reward=0.1 * (episode + 1), policy_metrics=metrics if run_id == "wm" else None))
    out = tmp_path / "o"
    run = CliRunner().invoke(app, ["report", "gap", "--run-id", "wm", "--db", str(db), "--out", str(out)])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out / "gap.csv").set_index("task")
    assert list(table.index) == ["click_bell", "turn_switch", "average"]
    assert table.loc["click_bell", "gap_psnr_db"] == pytest.approx(21.0)
    assert table.loc["turn_switch", "gap_robot_psnr_db"] == pytest.approx(12.0)  # the episode without one skipped
    assert table.loc["average", "gap_psnr_db"] == pytest.approx(19.75) and table.loc["average", "successes"] == 1
    assert table.loc["click_bell", "reward"] == pytest.approx(0.15)
    assert "| click_bell | 1/2 |" in (out / "gap.md").read_text()
    not_a_world_model = CliRunner().invoke(app, ["report", "gap", "--run-id", "dp", "--db", str(db)])
    assert not_a_world_model.exit_code != 0
    assert "no episode with an executability gap" in str(not_a_world_model.exception or not_a_world_model.output)


def test_the_episode_sheet_shows_each_chosen_episode_executed_and_imagined(tmp_path) -> None:
    from PIL import Image
    from typer.testing import CliRunner

    from eva_bench.cli import app
    from eva_bench.video import write_mp4

    db = tmp_path / "db.sqlite"
    with ResultsStore(db) as store:
        store.start_run(RunInfo(run_id="wm", policy="eva-norl", checkpoint=None, seed=0, episodes=3,
                                instruction_kind="seen", tasks=["click_bell"], embodiment="e"))
        for episode, success in enumerate((True, False, True)):
            # Each video one flat shade, so the sheet's pixels say which video each strip came from.
            executed = write_mp4(tmp_path / f"{episode}.mp4", np.full((6, 32, 48, 3), 40 * episode + 20, np.uint8), 10)
            imagined = write_mp4(tmp_path / f"{episode}_im.mp4", np.full((5, 16, 24, 3), 250, np.uint8), 10)
            store.add_episode(EpisodeRecord(
                run_id="wm", task="click_bell", task_version=1, episode=episode, seed=episode, instruction="x",
                success=success, steps=5, step_limit=9, wall_time_s=1.0, reward=0.1,
                video_path=str(executed) if episode < 2 else str(tmp_path / "gone.mp4"),
                policy_metrics={"videos": {"imagined": str(imagined)}}))
    out = tmp_path / "o"
    run = CliRunner().invoke(app, ["report", "episodes", "--run-id", "wm", "--frames", "4", "--db", str(db),
                                   "--out", str(out)])
    assert run.exit_code == 0, run.output
    sheet = np.asarray(Image.open(out / "episodes_success.png"))
    assert sheet.shape[1] == 4 * 48 and sheet.shape[0] == 2 * (32 + 14)  # episode 0 executed + imagined; 2 gone
    assert abs(int(sheet[14 + 16, 10, 0]) - 20) < 8 and sheet[2 * 14 + 32 + 8, 10, 0] > 240
    failures = CliRunner().invoke(app, ["report", "episodes", "--run-id", "wm", "--outcome", "failure",
                                        "--db", str(db), "--out", str(out)])
    assert failures.exit_code == 0 and (out / "episodes_failure.png").is_file()
    none = CliRunner().invoke(app, ["report", "episodes", "--run-id", "ghost", "--db", str(db), "--out", str(out)])
    assert none.exit_code != 0
