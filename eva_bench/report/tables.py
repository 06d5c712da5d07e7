"""Per-task result tables in markdown or CSV."""

from __future__ import annotations

import math

import pandas as pd

_COLUMNS = ["task", "episodes", "successes", "success_rate", "mean_steps", "skipped_seeds", "errors"]


def success_table(summary: pd.DataFrame, fmt: str = "md") -> str:
    """Render a run summary (one row per task, see `ResultsStore.summary`) with an average row.

    The average row is the mean of the per-task success rates over tasks that have episodes (the paper's
    "Success Rate" row), alongside total episodes and successes. When any episode has an executability reward,
    a "mean reward" column is added (its average: the mean over tasks with rewards).
    """
    if fmt not in ("md", "csv"):
        raise ValueError(f"format must be 'md' or 'csv', got {fmt!r}")
    rewards = "mean_reward" in summary.columns and bool(summary["mean_reward"].notna().any())
    columns = _COLUMNS + ["mean_reward"] if rewards else _COLUMNS
    table = summary[[c for c in columns if c in summary.columns]].copy()
    played = table[table["episodes"] > 0]
    average = {
        "task": "average",
        "episodes": int(table["episodes"].sum()),
        "successes": int(table["successes"].sum()),
        "success_rate": float(played["success_rate"].mean()) if len(played) else math.nan,
        "mean_steps": float(played["mean_steps"].mean()) if len(played) else math.nan,
        "skipped_seeds": int(table["skipped_seeds"].sum()),
        "errors": int(table["errors"].sum()),
    }
    if rewards:
        average["mean_reward"] = float(table["mean_reward"].mean())
    table = pd.concat([table, pd.DataFrame([average])], ignore_index=True)
    if fmt == "csv":
        return table.to_csv(index=False, float_format="%.4f")
    extra = (" mean reward |", "---:|") if rewards else ("", "")
    rows = [f"| task | success | rate | mean steps | skipped seeds | errors |{extra[0]}",
            f"|---|---:|---:|---:|---:|---:|{extra[1]}"]
    for r in table.itertuples(index=False):
        rate = "-" if math.isnan(r.success_rate) else f"{100 * r.success_rate:.1f}%"
        steps = "-" if math.isnan(r.mean_steps) else f"{r.mean_steps:.0f}"
        name = f"**{r.task}**" if r.task == "average" else r.task
        row = f"| {name} | {r.successes}/{r.episodes} | {rate} | {steps} | {r.skipped_seeds} | {r.errors} |"
        if rewards:
            row += " - |" if math.isnan(r.mean_reward) else f" {r.mean_reward:.3f} |"
        rows.append(row)
    return "\n".join(rows) + "\n"
