"""Where the trainer's numbers go: log.csv (always) and TensorBoard event files (optional).

`CsvLog` keeps log.csv whole (every write replaces the file atomically) and drops the rows written after the
checkpoint a run resumes from, so a resumed run's log equals an uninterrupted one's. `TensorBoardLog` imports
`torch.utils.tensorboard` only when asked for, and says in one line how to install it when it is missing;
TensorBoard writes its event files itself (appending, not atomically), and on resume it purges the events
after the resumed step.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.fileio import atomic_write

TENSORBOARD_MISSING = ("TensorBoard logging needs the tensorboard package: pip install 'eva-bench[tensorboard]' "
                       "(or run without --tensorboard)")


class CsvLog:
    """A CSV file of one row per evaluation.

    Args:
        path: The file (created with a header on the first row).
        columns: Column names, in order; missing values are written empty.
    """

    def __init__(self, path: str | os.PathLike, columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)

    def rows(self) -> list[dict]:
        """The rows written so far (column -> text)."""
        if not self.path.exists():
            return []
        with self.path.open(newline="") as f:
            return list(csv.DictReader(f))

    def truncate(self, step: int) -> None:
        """Keep only the rows of steps <= `step` (those after it will be written again)."""
        if self.path.exists():
            self._write([r for r in self.rows() if int(r["step"]) <= step])

    def append(self, row: Mapping[str, object]) -> None:
        """Add one row."""
        self._write([*self.rows(), row])

    def _write(self, rows: list[Mapping[str, object]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, self.columns, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(self.path, buffer.getvalue())


def require_tensorboard() -> None:
    """Raise the one-line `UserError` when TensorBoard logging cannot work here."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError as error:
        raise UserError(TENSORBOARD_MISSING) from error


class TensorBoardLog:
    """Scalars in TensorBoard event files.

    Args:
        folder: The event-file folder.
        purge_step: Events of this step and later, left by an interrupted earlier call, are dropped.

    Raises:
        UserError: The tensorboard package is not installed.
    """

    def __init__(self, folder: str | os.PathLike, purge_step: int | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise UserError(TENSORBOARD_MISSING) from error
        self.writer = SummaryWriter(log_dir=str(folder), purge_step=purge_step)

    def scalars(self, step: int, values: Mapping[str, object], prefix: str = "") -> None:
        """Log every number in `values` (others are skipped) at `step`."""
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(prefix + name, value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
