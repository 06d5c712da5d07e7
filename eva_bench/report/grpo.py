"""The GRPO training curve (the paper's Figure S3) from a run folder of `eva-bench train grpo`.

The rollouts' mean reward per step (with its spread over the rollouts, and a moving average), the held-out
prompts' ODE reward at each evaluation, and the static-robot share (the first sign of reward hacking) on a
second axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eva_bench.errors import UserError


def read_grpo_logs(run: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-step rows of grpo_log.csv, evaluation rows of log.csv with a val_reward; possibly empty)."""
    from eva_bench.align.grpo import LOG_FILE

    steps_file, evals_file = run / LOG_FILE, run / "log.csv"
    if not steps_file.is_file():
        raise UserError(f"{run}: no {LOG_FILE} here (is it a run folder of `eva-bench train grpo`?)")
    steps = pd.read_csv(steps_file)
    if steps.empty:
        raise UserError(f"{steps_file}: no step logged yet")
    evals = pd.read_csv(evals_file) if evals_file.is_file() else pd.DataFrame(columns=["step", "val_reward"])
    if "val_reward" not in evals:
        evals = pd.DataFrame(columns=["step", "val_reward"])
    return steps, evals.dropna(subset=["val_reward"])


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of the last `window` values at each position (fewer at the start)."""
    sums = np.cumsum(np.insert(np.asarray(values, np.float64), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def grpo_summary(steps: pd.DataFrame, evals: pd.DataFrame, window: int = 10) -> str:
    """A markdown paragraph: the reward of the first and last `window` steps and of the first and last evaluation."""
    first, last = steps.reward_mean.head(window).mean(), steps.reward_mean.tail(window).mean()
    text = (f"{len(steps)} GRPO steps (last: {int(steps.step.iloc[-1])}). Rollout reward, mean of the first "
            f"{min(window, len(steps))} steps {first:.4f}, of the last {min(window, len(steps))} {last:.4f} "
            f"({last - first:+.4f}); static-robot share {steps.static.head(window).mean():.3f} -> "
            f"{steps.static.tail(window).mean():.3f}.")
    if len(evals):
        text += (f" Held-out prompts (ODE): step {int(evals.step.iloc[0])} {evals.val_reward.iloc[0]:.4f}, "
                 f"step {int(evals.step.iloc[-1])} {evals.val_reward.iloc[-1]:.4f}.")
    return text + "\n"


def grpo_curve_plot(steps: pd.DataFrame, evals: pd.DataFrame, path: Path, window: int = 10) -> Path:
    """Figure S3: reward vs. step (module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7, 4))
    x, mean, spread = steps.step.to_numpy(), steps.reward_mean.to_numpy(), steps.reward_std.to_numpy()
    axis.fill_between(x, mean - spread, mean + spread, color="tab:blue", alpha=0.15, label="rollouts, +-1 std")
    axis.plot(x, mean, color="tab:blue", alpha=0.4, linewidth=0.8, label="rollouts, mean")
    axis.plot(x, moving_average(mean, window), color="tab:blue", linewidth=2, label=f"mean, {window}-step average")
    if len(evals):
        axis.plot(evals.step, evals.val_reward, "o-", color="tab:orange", label="held-out prompts (ODE)")
    axis.set_xlabel("GRPO step")
    axis.set_ylabel("IDM executability reward R")
    static = axis.twinx()
    static.plot(x, moving_average(steps.static.to_numpy(), window), ":", color="tab:red", label="static share")
    static.set_ylim(-0.02, 1.02)
    static.set_ylabel("static-robot share", color="tab:red")
    handles = axis.get_legend_handles_labels()[0] + static.get_legend_handles_labels()[0]
    axis.legend(handles, [h.get_label() for h in handles], loc="best", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_grpo_report(run: Path, out: Path, window: int = 10) -> list[Path]:
    """grpo_curve.md (the summary) and grpo_curve.png for a GRPO run folder."""
    steps, evals = read_grpo_logs(run)
    out.mkdir(parents=True, exist_ok=True)
    summary = out / "grpo_curve.md"
    summary.write_text(f"GRPO run {run}. " + grpo_summary(steps, evals, window))
    return [summary, grpo_curve_plot(steps, evals, out / "grpo_curve.png", window)]
