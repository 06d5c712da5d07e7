"""Ranking checkpoints on validation episodes (`eva-bench compare`): statistics, recommendation, table, plot.

Every number comes from the results database. Per checkpoint: validation success and the mean episode reward
(the IDM executability R of the executed video), with bootstrap confidence intervals over episodes
(resampled within each task, so the task mix stays fixed); the world-model policies' per-episode metrics (the
reward of the imagined segments, which GRPO maximises; the hacking detectors of `eva_bench.align.rewards`; the
executability gap); and the paired per-seed difference in success against a reference checkpoint (the same
validation seeds are played by every checkpoint, so differences are paired).

The recommendation (early stopping, why GRPO needs it: paper appendix C): among the checkpoints whose success
is statistically indistinguishable from the best one (the paired difference's interval reaches 0), the earliest,
because later ones have drifted further from the SFT model for no measured gain. Checkpoints whose imagined
reward rose while their success fell, or whose robot went static or whose grippers froze more often than the
reference's, are flagged as reward hacking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from eva_bench.store import EpisodeRecord, ResultsStore

LEVEL = 0.95
POLICY_METRICS = ("imagined_reward", "static_share", "gripper_out_of_range", "frozen_grippers", "gap_psnr_db",
                  "gap_ssim", "gap_robot_psnr_db")
STATIC_MARGIN = 0.2  # a static share this much above the reference's is flagged
FROZEN_MARGIN = 0.5  # frozen grippers per episode this much above the reference's are flagged


@dataclass(frozen=True)
class Entry:
    """One compared checkpoint: its label, its training step (None: unknown) and its run in the database."""

    label: str
    step: int | None
    run_id: str


def stratified_bootstrap(values: np.ndarray, strata: np.ndarray, samples: int, seed: int = 0) -> np.ndarray:
    """Means of `samples` bootstrap resamples of `values`, each resampled with replacement within its stratum."""
    rng = np.random.default_rng(seed)
    means = np.zeros(samples)
    for stratum in np.unique(strata):
        part = values[strata == stratum]
        picks = rng.integers(0, len(part), (samples, len(part)))
        means += part[picks].sum(axis=1)
    return means / len(values)


def mean_ci(values: np.ndarray, strata: np.ndarray, samples: int, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the mean and its percentile bootstrap interval at LEVEL; NaNs when empty."""
    values = np.asarray(values, np.float64)
    if not len(values):
        return float("nan"), float("nan"), float("nan")
    means = stratified_bootstrap(values, np.asarray(strata), samples, seed)
    low, high = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(values.mean()), float(low), float(high)


def _by_seed(episodes: list[EpisodeRecord]) -> dict[tuple[str, int], EpisodeRecord]:
    return {(e.task, e.seed): e for e in episodes}


def paired_difference(a: list[EpisodeRecord], b: list[EpisodeRecord], samples: int,
                      seed: int = 0) -> tuple[float, float, float, int]:
    """Success of `a` minus success of `b` on the (task, seed) pairs both played: (mean, low, high, pairs)."""
    first, second = _by_seed(a), _by_seed(b)
    keys = sorted(first.keys() & second.keys())
    diffs = np.array([float(first[k].success) - float(second[k].success) for k in keys])
    mean, low, high = mean_ci(diffs, np.array([k[0] for k in keys]), samples, seed)
    return mean, low, high, len(keys)


def _metric(episodes: list[EpisodeRecord], name: str) -> float:
    values = [e.policy_metrics[name] for e in episodes
              if e.policy_metrics and e.policy_metrics.get(name) is not None]
    return float(np.mean(values)) if values else float("nan")


def comparison_table(store: ResultsStore, entries: list[Entry], reference: int = 0, samples: int = 2000,
                     train_metrics: dict[str, dict] | None = None) -> pd.DataFrame:
    """One row per entry (see the module docstring); `train_metrics`: label -> extra columns (e.g. the GRPO
    run's own held-out reward at that step)."""
    played = {entry.label: store.episodes(entry.run_id) for entry in entries}
    ref = played[entries[reference].label] if entries else []
    rows = []
    for entry in entries:
        episodes = [e for e in played[entry.label] if e.error is None]
        tasks = np.array([e.task for e in episodes])
        success = mean_ci(np.array([float(e.success) for e in episodes]), tasks, samples)
        rewarded = [e for e in episodes if e.reward is not None]
        reward = mean_ci(np.array([e.reward for e in rewarded]), np.array([e.task for e in rewarded]), samples)
        diff = paired_difference(episodes, [e for e in ref if e.error is None], samples)
        row = {"checkpoint": entry.label, "step": entry.step, "run_id": entry.run_id, "episodes": len(episodes),
               "errors": len(played[entry.label]) - len(episodes),
               "success": success[0], "success_low": success[1], "success_high": success[2],
               "reward": reward[0], "reward_low": reward[1], "reward_high": reward[2],
               **{name: _metric(episodes, name) for name in POLICY_METRICS},
               "diff_vs_ref": diff[0], "diff_low": diff[1], "diff_high": diff[2], "pairs": diff[3]}
        row.update((train_metrics or {}).get(entry.label, {}))
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table["flags"] = _flags(table, reference)
    return table


def _flags(table: pd.DataFrame, reference: int) -> list[str]:
    """Reward-hacking flags of each row against the reference row (module docstring)."""
    ref = table.iloc[reference]
    flags = []
    for _, row in table.iterrows():
        found = []
        if row["imagined_reward"] > ref["imagined_reward"] and row["success"] < ref["success"]:
            found.append("reward up, success down")
        if row["static_share"] > ref["static_share"] + STATIC_MARGIN:
            found.append("static robot")
        if row["frozen_grippers"] > ref["frozen_grippers"] + FROZEN_MARGIN:
            found.append("frozen grippers")
        if row["errors"]:
            found.append(f"{row['errors']} failed episodes")
        flags.append("; ".join(found))
    return flags


@dataclass(frozen=True)
class Recommendation:
    """The checkpoint to stop at, and why."""

    label: str
    reason: str


def recommend(store: ResultsStore, entries: list[Entry], table: pd.DataFrame, samples: int = 2000) -> Recommendation:
    """The earliest checkpoint statistically indistinguishable from the best (module docstring)."""
    if table.empty:
        raise ValueError("nothing to compare")
    order = table.assign(order_step=table["step"].fillna(-1), order_index=range(len(table)))
    ranked = order.sort_values(["success", "reward", "order_step", "order_index"],
                               ascending=[False, False, True, True])
    best = ranked.iloc[0]
    best_episodes = store.episodes(best["run_id"])
    tied = []
    for index, row in order.iterrows():
        mean, low, high, _ = paired_difference(store.episodes(row["run_id"]), best_episodes, samples)
        if row["run_id"] == best["run_id"] or high >= 0:
            tied.append((row["order_step"], row["order_index"], index, mean, low, high))
    _, _, chosen, mean, low, high = min(tied)
    pick = table.loc[chosen]
    interval = f"[{pick['success_low']:.2f}, {pick['success_high']:.2f}]"
    if pick["run_id"] == best["run_id"]:
        reason = (f"{pick['checkpoint']} has the highest validation success, {pick['success']:.2f} {interval} "
                  f"over {pick['episodes']} episodes, and no earlier checkpoint is within its "
                  f"{LEVEL:.0%} interval")
    else:
        reason = (f"{best['checkpoint']} has the highest validation success ({best['success']:.2f}), but "
                  f"{pick['checkpoint']} ({pick['success']:.2f} {interval}) is earlier and not measurably worse: "
                  f"paired difference {mean:+.2f} [{low:+.2f}, {high:+.2f}] on the same seeds")
    if pick["flags"]:
        reason += f"; flagged: {pick['flags']}"
    position = (order.loc[chosen, "order_step"], order.loc[chosen, "order_index"])
    later = [r for r in order.itertuples() if (r.order_step, r.order_index) > position and r.flags]
    if later:
        reason += "; later checkpoints flagged: " + ", ".join(f"{r.checkpoint} ({r.flags})" for r in later)
    return Recommendation(str(pick["checkpoint"]), reason)


def _fmt(value, spec: str) -> str:
    return "" if value is None or value != value else format(value, spec)


def comparison_markdown(table: pd.DataFrame, recommendation: Recommendation, reference: str, settings: str) -> str:
    """The table as markdown, the recommendation above it."""
    lines = [f"**Recommended: {recommendation.label}**: {recommendation.reason}.", "",
             f"Paired differences are against {reference}. {settings}", "",
             "| checkpoint | step | success [95% CI] | reward [95% CI] | imagined R | static | grippers frozen "
             "| gap PSNR | robot PSNR | paired diff [95% CI] | flags |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        step = "" if r.step is None or r.step != r.step else str(int(r.step))
        lines.append(
            f"| {r.checkpoint} | {step} | {r.success:.2f} [{r.success_low:.2f}, {r.success_high:.2f}] "
            f"| {_fmt(r.reward, '.3f')} [{_fmt(r.reward_low, '.3f')}, {_fmt(r.reward_high, '.3f')}] "
            f"| {_fmt(r.imagined_reward, '.3f')} | {_fmt(r.static_share, '.2f')} | {_fmt(r.frozen_grippers, '.2f')} "
            f"| {_fmt(r.gap_psnr_db, '.1f')} | {_fmt(r.gap_robot_psnr_db, '.1f')} "
            f"| {r.diff_vs_ref:+.2f} [{r.diff_low:+.2f}, {r.diff_high:+.2f}] "
            f"| {r.flags} |")
    return "\n".join(lines) + "\n"


def comparison_plot(table: pd.DataFrame, recommendation: Recommendation, path: Path) -> Path:
    """Validation success (with its interval) and mean rewards vs. training step (or checkpoint order)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = table["step"].to_numpy(dtype=float)
    x = steps if not np.isnan(steps).any() else np.arange(len(table), dtype=float)
    fig, left = plt.subplots(figsize=(7, 4))
    success = table["success"].to_numpy()
    errors = [success - table["success_low"].to_numpy(), table["success_high"].to_numpy() - success]
    left.errorbar(x, success, yerr=errors, marker="o", color="tab:blue", capsize=3, label="validation success")
    left.set_ylim(-0.02, 1.02)
    left.set_ylabel("validation success", color="tab:blue")
    left.set_xlabel("GRPO step" if x is steps else "checkpoint")
    if x is not steps:
        left.set_xticks(x, table["checkpoint"], rotation=30, ha="right")
    right = left.twinx()
    for column, style, name in (("imagined_reward", "s--", "imagined R"), ("reward", "^:", "executed R")):
        if table[column].notna().any():
            right.plot(x, table[column], style, color="tab:orange", label=name)
    right.set_ylabel("IDM executability reward", color="tab:orange")
    chosen = x[list(table["checkpoint"]).index(recommendation.label)]
    left.axvline(chosen, color="grey", linestyle="-.", linewidth=1)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="best", fontsize=8)
    left.set_title(f"recommended: {recommendation.label}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
