"""`eva-bench compare`: bootstrap intervals, paired differences, the early-stopping recommendation, the files,
and the whole command on tiny untrained world models (the plumbing, not the quality)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from eva_bench.compare import CompareConfig, candidates
from eva_bench.errors import UserError
from eva_bench.report.compare import (
    Entry,
    comparison_markdown,
    comparison_plot,
    comparison_table,
    mean_ci,
    paired_difference,
    recommend,
)
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo

TASKS = ("lift", "stack")


def _store_run(store: ResultsStore, run_id: str, successes: list[int], metrics: dict | None = None) -> None:
    """A run whose episode i (of each task) succeeds when successes[i] is 1; same seeds in every run."""
    store.start_run(RunInfo(run_id=run_id, policy="eva", checkpoint=None, seed=0, episodes=len(successes),
                            instruction_kind="unseen", tasks=list(TASKS), embodiment="e", seed_split="validation"))
    for task in TASKS:
        for episode, success in enumerate(successes):
            store.add_episode(EpisodeRecord(
                run_id=run_id, task=task, task_version=1, episode=episode, seed=50000 + episode, instruction="x",
                success=bool(success), steps=10, step_limit=20, wall_time_s=1.0, reward=0.5 + 0.01 * success,
                policy_metrics={"imagined_reward": 0.6, "static_share": 0.1, "gripper_out_of_range": 0.0,
                                "frozen_grippers": 0, "gap_psnr_db": 20.0, "gap_ssim": 0.5, **(metrics or {})}))


def test_bootstrap_intervals_cover_the_mean_and_narrow_with_more_episodes() -> None:
    rng = np.random.default_rng(0)
    strata = np.repeat(["a", "b"], 10)
    few = rng.random(20) < 0.5
    mean, low, high = mean_ci(few.astype(float), strata, 2000)
    assert low <= mean <= high and 0 < high - low < 1
    many = np.tile(few, 10).astype(float)
    mean_many, low_many, high_many = mean_ci(many, np.tile(strata, 10), 2000)
    assert mean_many == pytest.approx(mean) and high_many - low_many < (high - low) / 2
    assert mean_ci(np.ones(8), np.repeat(["a", "b"], 4), 500) == (1.0, 1.0, 1.0)


def test_paired_differences_match_episodes_by_task_and_seed(tmp_path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        _store_run(store, "a", [1, 1, 0, 0])
        _store_run(store, "b", [0, 1, 0, 0])
        a, b = store.episodes("a"), store.episodes("b")
        assert paired_difference(a, a, 500)[:3] == (0.0, 0.0, 0.0)
        mean, low, high, pairs = paired_difference(a, b, 2000)
        assert pairs == 8 and mean == pytest.approx(0.25) and low >= 0 and high > low
        assert paired_difference(a, b[:3], 500)[3] == 3  # only the pairs both played


def test_the_earliest_checkpoint_as_good_as_the_best_is_recommended_and_hacking_is_flagged(tmp_path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        _store_run(store, "sft", [0] * 20)
        _store_run(store, "s20", [1] * 15 + [0] * 5)
        _store_run(store, "s40", [1] * 16 + [0] * 4)  # best, but not measurably better than s20
        _store_run(store, "s60", [1] * 2 + [0] * 18, {"imagined_reward": 0.95, "static_share": 0.9})
        entries = [Entry("sft", 0, "sft"), Entry("s20", 20, "s20"), Entry("s40", 40, "s40"), Entry("s60", 60, "s60")]
        table = comparison_table(store, entries, reference=0, samples=1000)
        choice = recommend(store, entries, table, samples=1000)
    assert list(table["checkpoint"]) == ["sft", "s20", "s40", "s60"]
    assert table.loc[2, "success"] == pytest.approx(0.8) and table.loc[1, "diff_vs_ref"] == pytest.approx(0.75)
    assert table.loc[1, "diff_low"] > 0  # s20 is measurably better than the SFT model
    assert table.loc[3, "flags"] == "static robot" and table.loc[1, "flags"] == ""
    assert choice.label == "s20"
    assert "s40 has the highest validation success" in choice.reason and "not measurably worse" in choice.reason
    assert "s60 (static robot)" in choice.reason

    markdown = comparison_markdown(table, choice, "sft", "settings.")
    assert markdown.startswith("**Recommended: s20**") and "| s60 | 60 | 0.10 [" in markdown
    png = comparison_plot(table, choice, tmp_path / "compare.png")
    assert Image.open(png).size[0] > 400


def test_a_single_clear_best_is_recommended_with_its_interval(tmp_path) -> None:
    with ResultsStore(tmp_path / "db.sqlite") as store:
        _store_run(store, "a", [0] * 20)
        _store_run(store, "b", [1] * 20, {"imagined_reward": 0.7})
        entries = [Entry("a", None, "a"), Entry("b", None, "b")]
        table = comparison_table(store, entries, samples=500)
        choice = recommend(store, entries, table, samples=500)
    assert choice.label == "b" and "highest validation success, 1.00 [1.00, 1.00] over 40 episodes" in choice.reason
    assert table.loc[0, "flags"] == "" and table.loc[1, "flags"] == ""


def _grpo_run(tiny_world_model, root):
    """A GRPO run folder as `eva-bench train grpo` leaves it: the latest adapter and two snapshots."""
    run = root / "grpo"
    shutil.copytree(tiny_world_model / "eva", run / "model")
    for step in (4, 8):
        shutil.copytree(tiny_world_model / "eva", run / "snapshots" / f"step-{step:05d}")
    return run


def test_paths_expand_to_labelled_candidates_with_their_policies(tiny_world_model, tmp_path) -> None:
    run = _grpo_run(tiny_world_model, tmp_path)
    config = CompareConfig([str(run), str(tiny_world_model / "wm"), str(tiny_world_model / "eva")], ["lift"],
                           tmp_path / "db", tmp_path / "ep", tmp_path / "out")
    found = candidates(config)
    assert [(c.label, c.step, c.policy) for c in found] == [
        ("grpo-sft", 0, "eva-norl"), ("grpo-step4", 4, "eva"), ("grpo-step8", 8, "eva"), ("wm", None, "eva-norl"),
        ("eva", None, "eva")]
    assert found[0].checkpoint == str(tiny_world_model / "wm")
    config.include_base = False
    assert [c.label for c in candidates(config)][:1] == ["grpo-step4"]
    config.checkpoints = [str(tiny_world_model / "wm")] * 2
    assert [c.label for c in candidates(config)] == ["wm", "wm-2"]
    for bad, message in ((tmp_path / "none", "no checkpoint or GRPO run"), (tiny_world_model / "ae", "'autoencoder'"),
                         (tmp_path, "not a comparable checkpoint")):
        with pytest.raises(UserError, match=message):
            candidates(CompareConfig([str(bad)], ["lift"], tmp_path / "db", tmp_path / "ep", tmp_path / "out"))
    with pytest.raises(UserError, match="at least one"):
        CompareConfig([], ["lift"], tmp_path / "db", tmp_path / "ep", tmp_path / "out")


@pytest.mark.usefixtures("one_torch_thread")
def test_compare_evaluates_a_grpo_run_on_validation_seeds_and_writes_the_report(tiny_world_model, tmp_path) -> None:
    from typer.testing import CliRunner

    from eva_bench.cli import app

    run = _grpo_run(tiny_world_model, tmp_path)
    args = ["compare", str(run), "--tasks", "_test_pulse", "--episodes", "2", "--out", str(tmp_path / "report"),
            "--episodes-dir", str(tmp_path / "ep"), "--db", str(tmp_path / "db.sqlite"), "--bootstrap", "200",
            "--policy-option", "sample_steps=1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "recommended: grpo-" in result.output
    with ResultsStore(tmp_path / "db.sqlite") as store:
        runs = {r.run_id: r for r in store.list_runs()}
        assert set(runs) == {"compare-grpo-sft", "compare-grpo-step4", "compare-grpo-step8"}
        assert {r.seed_split for r in runs.values()} == {"validation"}
        assert runs["compare-grpo-sft"].policy == "eva-norl" and runs["compare-grpo-step4"].policy == "eva"
        seeds = [e.seed for e in store.episodes("compare-grpo-step8")]
        assert seeds == [50000, 50001]  # validation seeds, the same for every checkpoint
        assert all(e.policy_metrics and "imagined_reward" in e.policy_metrics
                   for e in store.episodes("compare-grpo-step4"))
    for name in ("compare.md", "compare.csv", "compare.json", "compare.png"):
        assert (tmp_path / "report" / name).is_file()
    again = CliRunner().invoke(app, args)  # every run is stored: nothing is played twice
    assert again.exit_code == 0 and "recommended" in again.output
    wrong = CliRunner().invoke(app, [*args, "--reference", "nope"])
    assert wrong.exit_code != 0 and "--reference 'nope'" in str(wrong.exception or wrong.output)
