"""Does the IDM reward predict success? The paper's Figure S1(b), from any run that stored rewards.

Per task and pooled: the rewards of successful and of failed episodes side by side (box plots), and the AUROC of
the reward as a predictor of success: the probability that a random successful episode has a higher reward than
a random failed one (ties count one half; 0.5 is chance), with a bootstrap interval (episodes resampled within
each outcome). A task whose episodes all succeeded, or all failed, has no AUROC.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eva_bench.store import ResultsStore

LEVEL = 0.95


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive's score > a negative's) + P(tie) / 2 (the Mann-Whitney statistic); NaN when a side is empty."""
    positive, negative = np.asarray(positive, np.float64), np.asarray(negative, np.float64)
    if not len(positive) or not len(negative):
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + ties / 2)


def auroc_ci(positive: np.ndarray, negative: np.ndarray, samples: int = 2000,
             seed: int = 0) -> tuple[float, float, float]:
    """(AUROC, low, high): the bootstrap interval at LEVEL, each outcome resampled with replacement."""
    value = auroc(positive, negative)
    if value != value:
        return value, value, value
    rng = np.random.default_rng(seed)
    draws = [auroc(rng.choice(positive, len(positive)), rng.choice(negative, len(negative))) for _ in range(samples)]
    low, high = np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return value, float(low), float(high)


def rewarded_episodes(store: ResultsStore, run_ids: list[str]) -> pd.DataFrame:
    """(run_id, task, success, reward) of the runs' episodes that stored a reward and did not crash."""
    rows = [(e.run_id, e.task, bool(e.success), float(e.reward)) for run_id in run_ids
            for e in store.episodes(run_id) if e.reward is not None and e.error is None]
    if not rows:
        raise ValueError(f"no episode of {', '.join(run_ids)} has a reward (was the run made with --reward-idm none?)")
    return pd.DataFrame(rows, columns=["run_id", "task", "success", "reward"])


def reward_success_table(episodes: pd.DataFrame, samples: int = 2000) -> pd.DataFrame:
    """Per task and pooled ("all"): episodes, successes, mean reward of each outcome, AUROC with its interval."""
    rows = []
    groups = [(task, part) for task, part in episodes.groupby("task", sort=True)] + [("all", episodes)]
    for task, part in groups:
        won, lost = part.loc[part.success, "reward"].to_numpy(), part.loc[~part.success, "reward"].to_numpy()
        value, low, high = auroc_ci(won, lost, samples)
        rows.append({"task": task, "episodes": len(part), "successes": len(won),
                     "reward_success": float(won.mean()) if len(won) else float("nan"),
                     "reward_failure": float(lost.mean()) if len(lost) else float("nan"),
                     "auroc": value, "auroc_low": low, "auroc_high": high})
    return pd.DataFrame(rows)


def reward_success_markdown(table: pd.DataFrame, runs: list[str]) -> str:
    """The table as markdown, pooled row last."""

    def fmt(value: float, spec: str = ".3f") -> str:
        return "" if value != value else format(value, spec)

    lines = [f"IDM reward of successful vs. failed episodes, runs {', '.join(runs)}. AUROC: the chance that a "
             "successful episode out-scores a failed one (0.5: no better than chance), "
             f"{LEVEL:.0%} bootstrap interval.", "",
             "| task | episodes | successes | reward (success) | reward (failure) | AUROC [95% CI] |",
             "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        interval = f"{fmt(r.auroc, '.2f')} [{fmt(r.auroc_low, '.2f')}, {fmt(r.auroc_high, '.2f')}]" \
            if r.auroc == r.auroc else "n/a (one outcome only)"
        name = f"**{r.task}**" if r.task == "all" else r.task
        lines.append(f"| {name} | {r.episodes} | {r.successes} | {fmt(r.reward_success)} | {fmt(r.reward_failure)} "
                     f"| {interval} |")
    return "\n".join(lines) + "\n"


def reward_success_plot(episodes: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """Box plots of the reward of successful (green) and failed (red) episodes, per task and pooled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [*sorted(episodes.task.unique()), "all"]
    fig, axis = plt.subplots(figsize=(max(7.0, 0.55 * len(tasks) + 2), 4.5))
    for index, task in enumerate(tasks):
        part = episodes if task == "all" else episodes[episodes.task == task]
        for offset, won, colour in ((-0.18, True, "tab:green"), (0.18, False, "tab:red")):
            values = part.loc[part.success == won, "reward"].to_numpy()
            if len(values):
                box = axis.boxplot(values, positions=[index + offset], widths=0.3, patch_artist=True,
                                   showfliers=True, flierprops={"markersize": 2})
                for patch in box["boxes"]:
                    patch.set_facecolor(colour)
                    patch.set_alpha(0.6)
    aurocs = dict(zip(table.task, table.auroc, strict=True))
    labels = [f"{t}\n{aurocs[t]:.2f}" if aurocs[t] == aurocs[t] else f"{t}\n-" for t in tasks]
    axis.set_xticks(range(len(tasks)), labels, rotation=60, ha="right", fontsize=7)
    axis.set_xlim(-0.6, len(tasks) - 0.4)
    axis.set_ylabel("IDM executability reward R")
    axis.set_title("R of successes (green) vs failures (red); AUROC under each task", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_reward_report(store: ResultsStore, run_ids: list[str], out: Path, samples: int = 2000) -> list[Path]:
    """reward_success.md / .csv / .png for the runs (pooled together)."""
    episodes = rewarded_episodes(store, run_ids)
    table = reward_success_table(episodes, samples)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "reward_success.md", out / "reward_success.csv"]
    files[0].write_text(reward_success_markdown(table, run_ids))
    table.to_csv(files[1], index=False, float_format="%.4f")
    files.append(reward_success_plot(episodes, table, out / "reward_success.png"))
    return files
