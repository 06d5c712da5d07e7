"""Pieces every command group shares: the --db option, task-list parsing and progress bars."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from eva_bench import paths
from eva_bench.errors import UserError

DbOption = Annotated[
    Path | None, typer.Option("--db", help=f"Results database (default: ${paths.DB_ENV} or {paths.default_db_path()}).")
]


def db_path(db: Path | None) -> Path:
    """The database a command uses: --db, else the default."""
    return db or paths.default_db_path()


def split_tasks(tasks: str) -> list[str]:
    """Task names of a --tasks value ('all' or comma-separated); unknown names fail with the available ones."""
    from eva_bench.task import TASKS

    if tasks.strip() == "all":
        names = [n for n in TASKS.names() if not n.startswith("_")]  # "_" marks test fixtures
    else:
        names = [t.strip() for t in tasks.split(",") if t.strip()]
    if not names:
        raise UserError("--tasks is empty; give 'all' or a comma-separated list of task names")
    for name in names:
        TASKS.get(name)
    return names


def split_task_option(text: str | None) -> list[str] | None:
    """Task names of an optional comma-separated --tasks value; None when empty (meaning: all found)."""
    names = [t.strip() for t in (text or "").split(",") if t.strip()]
    return names or None


class ProgressBars:
    """A `(stage, done, total)` progress callback drawing one tqdm bar per stage on stderr."""

    def __init__(self) -> None:
        self.bars: dict = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            unit = "ep" if stage == "episodes" else "seed"
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit=unit, leave=stage == "episodes",
                                          file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:  # a later run's stage of the same name (`eva-bench compare`) gets a new bar
            self.bars.pop(stage).close()

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc) -> None:
        for bar in self.bars.values():
            bar.close()


