"""Default locations on disk: the cache for generated files, the results database and run outputs.

Every location can be overridden by an environment variable so CI and users can keep state where they want.
"""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "EVA_BENCH_DB"
CACHE_ENV = "EVA_BENCH_CACHE"
OUTPUT_ENV = "EVA_BENCH_OUTPUT"
IDM_ENV = "EVA_BENCH_IDM"
WORLD_MODEL_ENV = "EVA_BENCH_WM"
EVA_ENV = "EVA_BENCH_EVA"
ACT_ENV = "EVA_BENCH_ACT"  # the act policy's checkpoint when --checkpoint is not given (none is released)
DP_ENV = "EVA_BENCH_DP"  # the dp policy's checkpoint when --checkpoint is not given (none is released)


def cache_dir() -> Path:
    """Generated, reproducible files (robot descriptions); safe to delete."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "eva-bench"
    return Path(os.environ.get(CACHE_ENV, default))


def default_db_path() -> Path:
    """The results database used when `--db` is not given."""
    return Path(os.environ.get(DB_ENV, "eva_bench_results/results.sqlite"))


def default_output_dir() -> Path:
    """Where per-episode videos and action logs go when no output folder is given."""
    return Path(os.environ.get(OUTPUT_ENV, "eva_bench_results"))


RELEASED_IDM = "idm-v3"  # the released IDM the reward and idm-oracle use by default


def released_checkpoint(name: str) -> Path:
    """The folder of released checkpoint `name` (e.g. "idm-v3"), shipped as package data (`eva_bench.released`,
    `results/checkpoints/` in a source checkout), so plain and editable installs both find it."""
    from importlib.resources import files

    return Path(str(files("eva_bench.released") / name))


def released_idm_dir() -> Path:
    """The IDM checkpoint used when none is given: `$EVA_BENCH_IDM`, else the released `idm-v3`."""
    return Path(os.environ[IDM_ENV]) if os.environ.get(IDM_ENV) else released_checkpoint(RELEASED_IDM)


RELEASED_WORLD_MODEL = "wm-tiny"  # the released world model `eva-norl` uses by default


def released_world_model_dir() -> Path:
    """The world-model checkpoint used when none is given: `$EVA_BENCH_WM`, else the released `wm-tiny`."""
    if os.environ.get(WORLD_MODEL_ENV):
        return Path(os.environ[WORLD_MODEL_ENV])
    return released_checkpoint(RELEASED_WORLD_MODEL)


RELEASED_EVA = "eva-tiny"  # the released GRPO adapter `eva` uses by default


def released_eva_dir() -> Path:
    """The aligned world model (LoRA adapter) used when none is given: `$EVA_BENCH_EVA`, else the released
    `eva-tiny`."""
    return Path(os.environ[EVA_ENV]) if os.environ.get(EVA_ENV) else released_checkpoint(RELEASED_EVA)
