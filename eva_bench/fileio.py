"""Atomic file writes: a file is either absent, its old version, or complete, never half written.

Every writer in eva-bench (checkpoints, episodes, videos, manifests, action logs, robot descriptions) goes
through `atomic_path`: it hands out a temporary sibling name (same folder, so the final rename is atomic on
POSIX; same extension, so libraries that infer the format from the name still work), and renames it onto the
target only when the block finished without an exception. A reader, or a run killed mid-write, never sees a
partial file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write in; renamed onto `path` when the block ends without error, deleted otherwise.

    The parent folder is created when missing. The temporary name is hidden (leading dot), unique per process
    and keeps `path`'s extension: `.episode0.1234.tmp.hdf5` for `episode0.hdf5`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to `path` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return path
