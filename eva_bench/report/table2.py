"""The paper's Table 2 / S1 from the results database: successes out of the episodes played per task for each
given run, beside the paper's numbers for the same policies (its appendix Table S1: 20 episodes per task on
RoboTwin 2.0's randomized scenes, the aloha-agilex robot; ours is a different robot and simulator, so the
columns are context, not a comparison of equals).

The average of a run is the mean of its per-task success rates over the tasks it played (the paper's "Average
(21 tasks)" when it played all 21); a run that played fewer tasks says so in its header.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eva_bench.store import ResultsStore

# The paper's Table S1 (successes out of 20 per task), in its column order.
PAPER_POLICIES = ("ACT", "DP", "RDT", "pi0", "EVA (w/o RL)", "EVA")
PAPER_TABLE_S1 = {
    "click_alarmclock": (6, 12, 12, 13, 20, 20),
    "click_bell": (12, 11, 16, 9, 18, 20),
    "handover_block": (8, 2, 9, 9, 0, 0),
    "handover_mic": (17, 11, 18, 20, 0, 3),
    "move_pillbottle_pad": (0, 0, 2, 4, 4, 6),
    "move_stapler_pad": (0, 0, 0, 0, 0, 1),
    "open_laptop": (11, 10, 12, 17, 6, 10),
    "place_a2b_right": (0, 3, 0, 5, 10, 11),
    "place_bread_basket": (1, 3, 2, 3, 15, 15),
    "place_burger_fries": (10, 14, 10, 16, 12, 12),
    "place_cans_plasticbox": (3, 8, 1, 7, 8, 9),
    "place_container_plate": (14, 8, 16, 18, 14, 16),
    "place_dual_shoes": (2, 2, 1, 3, 0, 1),
    "place_mouse_pad": (0, 0, 0, 1, 4, 5),
    "place_object_basket": (3, 3, 7, 3, 2, 2),
    "place_object_stand": (0, 4, 3, 7, 12, 13),
    "press_stapler": (6, 1, 8, 12, 18, 20),
    "shake_bottle": (15, 13, 15, 19, 18, 20),
    "shake_bottle_horizontally": (13, 12, 17, 20, 20, 20),
    "stamp_seal": (0, 0, 0, 1, 5, 4),
    "turn_switch": (1, 7, 7, 5, 8, 13),
}
PAPER_EPISODES = 20


def table2(store: ResultsStore, runs: dict[str, str]) -> tuple[pd.DataFrame, dict[str, dict]]:
    """(the table, per run label {"run_id", "policy", "tasks", "episodes"}): one row per task of the paper (then
    any other task a run played) and an "average" row; per run label the columns `<label>` ("s/n" text) and
    `<label> rate`; the paper's columns `paper <policy>`.

    Raises:
        ValueError: An unknown run id, or a run without episodes.
    """
    summaries, info = {}, {}
    for label, run_id in runs.items():
        run = store.get_run(run_id)
        if run is None:
            raise ValueError(f"no run {run_id!r} in {store.path}")
        summary = store.summary(run_id)
        summary = summary[summary["episodes"] > 0].set_index("task")
        if summary.empty:
            raise ValueError(f"run {run_id!r} has no episode yet")
        summaries[label] = summary
        info[label] = {"run_id": run_id, "policy": run.policy, "tasks": len(summary),
                       "episodes": int(summary["episodes"].sum())}
    tasks = list(PAPER_TABLE_S1) + sorted({t for s in summaries.values() for t in s.index} - set(PAPER_TABLE_S1))
    rows = []
    for task in tasks:
        row: dict = {"task": task}
        for label, summary in summaries.items():
            if task in summary.index:
                done = summary.loc[task]
                row[label] = f"{int(done.successes)}/{int(done.episodes)}"
                row[f"{label} rate"] = done.successes / done.episodes
            else:
                row[label], row[f"{label} rate"] = "", float("nan")
        for index, policy in enumerate(PAPER_POLICIES):
            paper = PAPER_TABLE_S1.get(task)
            row[f"paper {policy}"] = f"{paper[index]}/{PAPER_EPISODES}" if paper else ""
        rows.append(row)
    average: dict = {"task": "average"}
    for label, summary in summaries.items():
        rate = float((summary.successes / summary.episodes).mean())
        average[label], average[f"{label} rate"] = f"{rate:.1%}", rate
    for index, policy in enumerate(PAPER_POLICIES):
        average[f"paper {policy}"] = f"{sum(v[index] for v in PAPER_TABLE_S1.values()) / (20 * 21):.1%}"
    rows.append(average)
    return pd.DataFrame(rows), info


def table2_markdown(table: pd.DataFrame, info: dict[str, dict]) -> str:
    """The table as markdown: our runs first, then the paper's columns."""
    ours = list(info)
    paper = [f"paper {p}" for p in PAPER_POLICIES]
    heads = [label if info[label]["tasks"] >= len(PAPER_TABLE_S1)
             else f"{label} ({info[label]['tasks']} task{'s' if info[label]['tasks'] > 1 else ''})" for label in ours]
    lines = ["Successes per task: our runs (" + ", ".join(f"{label} = run {v['run_id']}, policy {v['policy']}, "
                                                           f"{v['episodes']} episodes" for label, v in info.items())
             + f"), beside the paper's Table S1 ({PAPER_EPISODES} episodes per task, RoboTwin 2.0's robot and "
               "simulator). Averages: the mean of per-task rates (the paper's over 21 tasks).", "",
             "| task | " + " | ".join(heads + paper) + " |", "|---|" + "---:|" * (len(ours) + len(paper))]
    for row in table.to_dict("records"):
        name = f"**{row['task']}**" if row["task"] == "average" else row["task"]
        lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in ours + paper) + " |")
    return "\n".join(lines) + "\n"


def write_table2(store: ResultsStore, runs: dict[str, str], out: str | Path) -> list[Path]:
    """table2.md and table2.csv in `out`."""
    table, info = table2(store, runs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table2.md").write_text(table2_markdown(table, info))
    table.to_csv(out / "table2.csv", index=False)
    return [out / "table2.md", out / "table2.csv"]
