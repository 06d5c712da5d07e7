"""Per-task result tables in markdown or CSV."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from eva_bench.store import RunInfo

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


def run_settings(info: RunInfo) -> str:
    """The settings of a run as markdown lines: what was evaluated, with which weights, code and reward."""

    def short(digest: str) -> str:
        return f" (digest {digest.split(':', 1)[-1][:12]})" if digest else ""

    reward = info.reward_config or {}
    p0 = (reward.get("reward_config") or {}).get("p0")
    if info.reward_idm:
        source = f", {reward['camera']} {'x'.join(map(str, reward['resolution']))}" if reward.get("camera") else ""
        reward_line = f"{info.reward_idm}{short(info.reward_idm_digest)}{source}" + (f", P0 {p0:g}" if p0 else "")
    else:
        reward_line = "none (rewards off)"
    config = info.policy_config or info.policy_options
    lines = [
        f"- run: {info.run_id} (started {info.created_at})",
        f"- policy: {info.policy}" + (f", config {json.dumps(config, sort_keys=True)}" if config else ""),
        f"- checkpoint: {info.checkpoint or 'none'}{short(info.checkpoint_digest)}",
        f"- reward IDM: {reward_line}",
        f"- protocol: {info.episodes} episodes per task, seed {info.seed} ({info.seed_split} seeds), "
        f"{info.instruction_kind} instructions, "
        f"{len(info.tasks)} task(s)",
        f"- code: eva-bench {info.eva_bench_version or 'unknown'}, commit {info.git_commit or 'unknown (not recorded)'}"
        f", embodiment {info.embodiment}",
    ]
    if info.task_versions:
        versions = sorted(set(info.task_versions.values()))
        lines.append("- task versions: " + (f"all {versions[0]}" if len(versions) == 1 else ", ".join(
            f"{t} {v}" for t, v in info.task_versions.items())))
    return "\n".join(lines) + "\n"
