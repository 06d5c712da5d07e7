"""The paper's IDM tables from the results database: Table 4 (per-task success of the IDM oracle) and
Table S2 (spatial softmax vs average pooling: held-out accuracy and oracle success).

Every number comes from the database: success from the episodes of `idm-oracle` runs, the IDM's pooling and
held-out test accuracy from the checkpoint info the run recorded when it started (config and metrics of the
checkpoint it loaded), never from a checkpoint folder that may have been replaced since.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd

from eva_bench.errors import UserError
from eva_bench.store import ResultsStore, RunInfo

log = logging.getLogger(__name__)

ORACLE_POLICY = "idm-oracle"


def _oracle_summary(store: ResultsStore, run_id: str) -> tuple[pd.DataFrame, RunInfo]:
    run = store.get_run(run_id)
    if run is None:
        known = ", ".join(r.run_id for r in store.list_runs() if r.policy == ORACLE_POLICY) or "none"
        raise UserError(f"no run {run_id!r} in the database; idm-oracle runs: {known}")
    if run.policy != ORACLE_POLICY:
        raise UserError(f"run {run_id!r} evaluated policy {run.policy!r}, not {ORACLE_POLICY!r}")
    summary = store.summary(run_id)
    return summary[summary["episodes"] > 0], run


def table4(store: ResultsStore, run_id: str) -> pd.DataFrame:
    """Per-task oracle successes out of the episodes played, and the average of per-task rates."""
    summary, _ = _oracle_summary(store, run_id)
    rows = [{"task": r.task, "successes": int(r.successes), "episodes": int(r.episodes),
             "success_rate": float(r.success_rate)} for r in summary.itertuples()]
    rows.append({"task": "average", "successes": int(summary["successes"].sum()),
                 "episodes": int(summary["episodes"].sum()),
                 "success_rate": float(summary["success_rate"].mean()) if len(summary) else math.nan})
    return pd.DataFrame(rows)


def table_s2(store: ResultsStore, run_ids: list[str]) -> pd.DataFrame:
    """One row per oracle run: its IDM's pooling, held-out test accuracy and mean MAE, and oracle success."""
    rows = []
    for run_id in run_ids:
        summary, run = _oracle_summary(store, run_id)
        config, metrics = _idm_info(run)
        rows.append({
            "run_id": run_id,
            "pooling": config.get("pooling", "?"),
            "test_accuracy": float(metrics.get("accuracy", math.nan)),
            "test_mae": float(metrics.get("mae_mean", math.nan)),
            "success_rate": float(summary["success_rate"].mean()) if len(summary) else math.nan,
            "tasks": len(summary),
            "episodes": int(summary["episodes"].sum()),
        })
    return pd.DataFrame(rows)


def _idm_info(run: RunInfo) -> tuple[dict, dict]:
    """(config, metrics) of a run's IDM as the database recorded them when the run started. Runs stored
    before results schema 3 recorded neither: for those (only) the checkpoint folder is read."""
    info = run.checkpoint_info
    if info:
        return info.get("config", {}), info.get("metrics", {})
    log.warning("run %s predates checkpoint info in the database: reading %s", run.run_id, run.checkpoint)
    folder = Path(run.checkpoint or "")
    return _read_json(folder / "config.json"), _read_json(folder / "metrics.json")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} is missing (the run's IDM checkpoint folder must be available)") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None


def table4_markdown(table: pd.DataFrame) -> str:
    lines = ["| task | IDM oracle | rate |", "|---|---:|---:|"]
    for r in table.itertuples():
        name = f"**{r.task}**" if r.task == "average" else r.task
        lines.append(f"| {name} | {r.successes}/{r.episodes} | {100 * r.success_rate:.2f}% |")
    return "\n".join(lines) + "\n"


def table_s2_markdown(table: pd.DataFrame) -> str:
    lines = ["| IDM pooling | test accuracy | test MAE | oracle success | tasks | run |",
             "|---|---:|---:|---:|---:|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.pooling} | {r.test_accuracy:.4f} | {r.test_mae:.4f} | {100 * r.success_rate:.2f}% | "
                     f"{r.tasks} | {r.run_id} |")
    return "\n".join(lines) + "\n"


def write_idm_report(store: ResultsStore, run_id: str, ablation_runs: list[str], out: Path) -> list[Path]:
    """Write Table 4 (`idm_table4.md/.csv`) and, with ablation runs, Table S2 (`idm_table_s2.md/.csv`)."""
    out.mkdir(parents=True, exist_ok=True)
    t4 = table4(store, run_id)
    written = [out / "idm_table4.md", out / "idm_table4.csv"]
    written[0].write_text(table4_markdown(t4))
    t4.to_csv(written[1], index=False, float_format="%.4f")
    if ablation_runs:
        s2 = table_s2(store, [run_id, *ablation_runs])
        written += [out / "idm_table_s2.md", out / "idm_table_s2.csv"]
        written[2].write_text(table_s2_markdown(s2))
        s2.to_csv(written[3], index=False, float_format="%.4f")
    return written
