"""The executability gap of a world-model run, per task: what `eva-norl` / `eva` imagined against what the robot
did when the IDM's decoding of it was executed (issue: the world model; the automatic stand-in for the paper's
human ratings, Table 1), beside success and the IDM reward of the executed and of the imagined video.

Columns (means over a task's episodes that measured them; `eva_norl`'s `episode_metrics` defines each):
success, the executed video's IDM reward (`reward`), the imagined segments' (`imagined_reward`), full-frame
PSNR / SSIM of imagined vs executed frames, PSNR over the robot's pixels in the executed frames (the part of
the picture the actions are read from: the full frame is mostly static table), the static-robot share and the
out-of-range grippers of the decoded segments, and seconds per imagined segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eva_bench.store import ResultsStore

METRICS = ("imagined_reward", "gap_psnr_db", "gap_ssim", "gap_robot_psnr_db", "static_share",
           "gripper_out_of_range", "imagine_s")
FORMATS = {"reward": ".3f", "imagined_reward": ".3f", "gap_psnr_db": ".1f", "gap_ssim": ".3f",
           "gap_robot_psnr_db": ".1f", "static_share": ".2f", "gripper_out_of_range": ".2f", "imagine_s": ".2f"}
HEADS = {"reward": "R executed", "imagined_reward": "R imagined", "gap_psnr_db": "gap PSNR dB",
         "gap_ssim": "gap SSIM", "gap_robot_psnr_db": "robot PSNR dB", "static_share": "static",
         "gripper_out_of_range": "grippers out", "imagine_s": "s / segment"}


def _mean(values: list) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


def gap_table(store: ResultsStore, run_id: str) -> pd.DataFrame:
    """One row per task the run played, then "average" (the mean of the task rows, as Table 2's).

    Raises:
        ValueError: An unknown run, or one whose episodes measured no gap (not a world-model policy).
    """
    if store.get_run(run_id) is None:
        raise ValueError(f"no run {run_id!r} in {store.path}")
    episodes = [e for e in store.episodes(run_id) if e.error is None]
    if not any((e.policy_metrics or {}).get("gap_psnr_db") is not None for e in episodes):
        raise ValueError(f"run {run_id!r} has no episode with an executability gap: it is measured by the "
                         "world-model policies (eva-norl, eva)")
    rows = []
    for task in sorted({e.task for e in episodes}):
        played = [e for e in episodes if e.task == task]
        row = {"task": task, "episodes": len(played), "successes": sum(bool(e.success) for e in played),
               "reward": _mean([e.reward for e in played])}
        row.update({m: _mean([(e.policy_metrics or {}).get(m) for e in played]) for m in METRICS})
        rows.append(row)
    table = pd.DataFrame(rows)
    average = {"task": "average", "episodes": int(table["episodes"].sum()), "successes": int(table["successes"].sum())}
    average.update({c: float(table[c].mean()) for c in ("reward", *METRICS)})
    return pd.concat([table, pd.DataFrame([average])], ignore_index=True)


def gap_markdown(table: pd.DataFrame, run_id: str) -> str:
    columns = ["reward", *METRICS]
    lines = [f"Executability gap of run `{run_id}`: imagined segments against the frames the simulator rendered "
             "executing their decoded actions (higher PSNR / SSIM = closer); R = IDM reward.", "",
             "| task | success | " + " | ".join(HEADS[c] for c in columns) + " |",
             "|---|---:|" + "---:|" * len(columns)]
    for row in table.to_dict("records"):
        name = f"**{row['task']}**" if row["task"] == "average" else row["task"]
        cells = ["" if row[c] != row[c] else format(row[c], FORMATS[c]) for c in columns]
        lines.append(f"| {name} | {row['successes']}/{row['episodes']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_gap_report(store: ResultsStore, run_id: str, out: str | Path) -> list[Path]:
    """gap.md and gap.csv in `out`."""
    table = gap_table(store, run_id)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gap.md").write_text(gap_markdown(table, run_id))
    table.to_csv(out / "gap.csv", index=False)
    return [out / "gap.md", out / "gap.csv"]
