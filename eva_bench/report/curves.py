"""The learning curve of any training run of the shared trainer, from its log.csv: the training loss and every
held-out metric against the step, one panel each, and a CSV copy of the log (what the paper's learning curves
and our release manifests cite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from eva_bench.errors import UserError

SKIPPED = ("step", "epoch", "lr", "samples_per_s", "time")


def read_training_log(run: Path) -> pd.DataFrame:
    """The rows of `run`/log.csv (at least one)."""
    path = Path(run) / "log.csv"
    if not path.is_file():
        raise UserError(f"{run}: no log.csv here (is it a run folder of `eva-bench train ...`?)")
    log = pd.read_csv(path)
    if log.empty:
        raise UserError(f"{path}: no evaluation logged yet")
    return log


def write_learning_curve(run: str | Path, out: str | Path, name: str = "") -> list[Path]:
    """`<name>_curve.png` (one panel per logged number) and `<name>_log.csv` in `out`; `name` defaults to the
    run folder's name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run, out = Path(run), Path(out)
    log = read_training_log(run)
    name = name or run.name
    columns = [c for c in log.columns if c not in SKIPPED and pd.api.types.is_numeric_dtype(log[c])
               and log[c].notna().any()]
    out.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(1, len(columns), figsize=(3.6 * len(columns), 3.0), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        ax.plot(log.step, log[column], marker="o", markersize=3)
        ax.set_title(column, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.3)
    figure.suptitle(f"{name}: {len(log)} evaluations, last at step {int(log.step.iloc[-1])}", fontsize=10)
    figure.tight_layout()
    png = out / f"{name}_curve.png"
    figure.savefig(png, dpi=80)
    plt.close(figure)
    csv = out / f"{name}_log.csv"
    shutil.copyfile(run / "log.csv", csv)
    return [png, csv]
