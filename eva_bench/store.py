"""The results database of evaluation runs: a SQLite file with one row per evaluated episode, the run settings, the
expert seed checks and the evaluation seeds chosen per task. Every report reads it. Each write is its own short
`BEGIN IMMEDIATE` transaction in WAL mode, so runs are resumable after a crash (even `kill -9`) without duplicating or
losing an episode, and several processes may write to the same file at once.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas

logger = logging.getLogger(__name__)

SCHEMA_VERSION: int = 5
APP_MARKER = "eva-bench"
SEED_SPLITS = ("evaluation", "validation")  # the seed ranges of eva_bench.runner.eval_seed_start
_SQLITE_HEADER = b"SQLite format 3\x00"
_RUN_KEY_FIELDS = ("policy", "checkpoint", "checkpoint_digest", "seed", "seed_split", "instruction_kind",
                   "embodiment", "policy_options", "reward_idm", "reward_idm_digest")
# Added by schema 3 (older runs read as ''/{}): what makes a stored number traceable to the code and models.
_V3_RUN_COLUMNS = (("checkpoint_digest", "TEXT NOT NULL DEFAULT ''"), ("reward_idm_digest", "TEXT NOT NULL DEFAULT ''"),
                   ("reward_config", "TEXT NOT NULL DEFAULT '{}'"), ("policy_config", "TEXT NOT NULL DEFAULT '{}'"),
                   ("task_versions", "TEXT NOT NULL DEFAULT '{}'"), ("checkpoint_info", "TEXT NOT NULL DEFAULT '{}'"))
_JSON_RUN_FIELDS = ("tasks", "policy_options", "reward_config", "policy_config", "task_versions", "checkpoint_info")

_SUMMARY_SQL = """SELECT task, COUNT(*) AS episodes, SUM(success) AS successes, AVG(steps) AS mean_steps,
    COUNT(error) AS errors, AVG(reward) AS mean_reward FROM episodes WHERE run_id = ? GROUP BY task ORDER BY task"""
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, policy TEXT NOT NULL, checkpoint TEXT,
        seed INTEGER NOT NULL, episodes INTEGER NOT NULL, instruction_kind TEXT NOT NULL, tasks TEXT NOT NULL,
        embodiment TEXT NOT NULL, policy_options TEXT NOT NULL, eva_bench_version TEXT NOT NULL,
        git_commit TEXT NOT NULL, created_at TEXT NOT NULL, reward_idm TEXT NOT NULL DEFAULT '',
        checkpoint_digest TEXT NOT NULL DEFAULT '', reward_idm_digest TEXT NOT NULL DEFAULT '',
        reward_config TEXT NOT NULL DEFAULT '{}', policy_config TEXT NOT NULL DEFAULT '{}',
        task_versions TEXT NOT NULL DEFAULT '{}', checkpoint_info TEXT NOT NULL DEFAULT '{}',
        seed_split TEXT NOT NULL DEFAULT 'evaluation')""",
    """CREATE TABLE IF NOT EXISTS episodes (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, task TEXT NOT NULL,
        task_version INTEGER NOT NULL, episode INTEGER NOT NULL, seed INTEGER NOT NULL, instruction TEXT NOT NULL,
        success INTEGER NOT NULL, steps INTEGER NOT NULL, step_limit INTEGER NOT NULL, wall_time_s REAL NOT NULL,
        video_path TEXT, actions_path TEXT, reward REAL, reward_components TEXT, error TEXT, created_at TEXT NOT NULL,
        policy_metrics TEXT, UNIQUE (run_id, task, episode))""",
    """CREATE TABLE IF NOT EXISTS seed_checks (task TEXT NOT NULL, task_version INTEGER NOT NULL,
        embodiment TEXT NOT NULL, seed INTEGER NOT NULL, solvable INTEGER NOT NULL, reason TEXT NOT NULL,
        expert_steps INTEGER, PRIMARY KEY (task, task_version, embodiment, seed))""",
    """CREATE TABLE IF NOT EXISTS run_task_seeds (run_id TEXT NOT NULL, task TEXT NOT NULL, seeds TEXT NOT NULL,
        skipped INTEGER NOT NULL, PRIMARY KEY (run_id, task))""",
)


class StoreError(RuntimeError):
    """The file is unreadable, corrupt, not an eva-bench database, or written by a newer schema."""


class RunMismatchError(StoreError):
    """A run id is resumed with settings that differ from the stored ones."""


@dataclass
class RunInfo:
    """Settings of one evaluation run; `episodes` is the requested number of episodes per task.

    The digests name exactly which weights produced the run's numbers (`eva_bench.checkpoint`): a resumed run
    must use the same ones, and reports read the reward constants from `reward_config`, never from a
    checkpoint folder that may have been replaced since.
    """

    run_id: str
    policy: str
    checkpoint: str | None
    seed: int
    episodes: int  # requested episodes per task
    instruction_kind: str  # "seen" or "unseen"
    tasks: list[str]
    embodiment: str  # embodiment digest string
    policy_options: dict = field(default_factory=dict)
    eva_bench_version: str = ""
    git_commit: str = ""
    created_at: str = ""  # ISO time, filled in by start_run when empty
    reward_idm: str = ""  # IDM checkpoint that scored the episodes' rewards ("" : none)
    checkpoint_digest: str = ""  # content digest of the policy's checkpoint ("" : none)
    reward_idm_digest: str = ""  # content digest of the reward IDM ("" : none)
    reward_config: dict = field(default_factory=dict)  # the reward scorer: source camera/resolution, constants
    policy_config: dict = field(default_factory=dict)  # every field of the policy's config, defaults included
    task_versions: dict = field(default_factory=dict)  # task -> version the run's episodes were played at
    checkpoint_info: dict = field(default_factory=dict)  # an eva-bench checkpoint's kind, config and metrics
    seed_split: str = "evaluation"  # which seeds: "evaluation" (RoboTwin's) or "validation" (`eva-bench compare`)


@dataclass
class EpisodeRecord:
    """The outcome of one evaluated episode (`episode` indexes 0..episodes-1 within its task)."""

    run_id: str
    task: str
    task_version: int
    episode: int  # index 0..episodes-1 within the task
    seed: int
    instruction: str
    success: bool
    steps: int  # control steps executed
    step_limit: int
    wall_time_s: float
    video_path: str | None = None
    actions_path: str | None = None
    reward: float | None = None  # IDM executability reward, when an IDM is configured
    reward_components: dict | None = None  # stored as JSON
    error: str | None = None  # policy/env exception text if the episode crashed
    policy_metrics: dict | None = None  # what the policy measured in the episode (`Policy.episode_metrics`), JSON
    created_at: str = ""  # ISO time, filled in by add_episode when empty


@dataclass
class SeedCheck:
    """Whether the scripted expert solves a task for one seed; `reason` says why not when unsolvable."""

    task: str
    task_version: int
    embodiment: str
    seed: int
    solvable: bool
    reason: str = ""  # why unsolvable (planning failure, unstable scene...), "" if solvable
    expert_steps: int | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _opt(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


def _insert(conn: sqlite3.Connection, verb: str, table: str, values: dict[str, Any], suffix: str = "") -> int:
    """Run `verb INTO table (...) VALUES (...) suffix` with named parameters; returns the affected row count."""
    marks = ", ".join(f":{k}" for k in values)
    return conn.execute(f"{verb} INTO {table} ({', '.join(values)}) VALUES ({marks}) {suffix}", values).rowcount


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Upgrade a database of schema `version` in place (inside the caller's write transaction)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    if version < 2 and "reward_idm" not in columns:  # v2: runs.reward_idm; older runs did not record it ("")
        conn.execute("ALTER TABLE runs ADD COLUMN reward_idm TEXT NOT NULL DEFAULT ''")
    if version < 3:  # v3: checkpoint digests, reward scorer, full policy config, task versions
        for name, kind in _V3_RUN_COLUMNS:
            if name not in columns:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    if version < 4 and "policy_metrics" not in {r[1] for r in conn.execute("PRAGMA table_info(episodes)")}:
        conn.execute("ALTER TABLE episodes ADD COLUMN policy_metrics TEXT")  # v4: per-episode policy metrics
    if version < 5 and "seed_split" not in columns:  # v5: validation seeds (`eva-bench compare`); older: evaluation
        conn.execute("ALTER TABLE runs ADD COLUMN seed_split TEXT NOT NULL DEFAULT 'evaluation'")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))


def _run_from_row(row: sqlite3.Row) -> RunInfo:
    return RunInfo(**{**dict(row), **{name: json.loads(row[name]) for name in _JSON_RUN_FIELDS}})


def _episode_from_row(row: sqlite3.Row) -> EpisodeRecord:
    data = {f.name: row[f.name] for f in fields(EpisodeRecord)}
    data.update(success=bool(row["success"]), reward_components=_opt(json.loads, row["reward_components"]),
                policy_metrics=_opt(json.loads, row["policy_metrics"]))
    return EpisodeRecord(**data)


class ResultsStore:
    """A handle on one results database; use one per process (it is also a context manager)."""

    def __init__(self, path: str | os.PathLike, create: bool = True) -> None:
        """Open the database at `path`, creating parent folders and the schema when missing.

        Args:
            path: The SQLite file.
            create: Whether a missing file may be created; readers pass False so that looking at a wrong
                path leaves nothing behind.

        Raises:
            StoreError: The path is a folder, its parent cannot be created, the file is missing and `create`
                is False, or the file is not a usable eva-bench database (it is then left untouched).
        """
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no results database here (run `eva-bench run` first, or pass --db)")
        self._check_path()
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open results database ({exc})") from exc
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA busy_timeout = 60000")
            self._init_schema()  # validates before anything (like the WAL switch) can modify the file
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")  # an episode is on disk when add_episode returns
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path}: cannot read results database ({exc})") from exc
            raise

    def _check_path(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a results database file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create parent folder {self.path.parent} ({exc})") from exc
        try:
            with self.path.open("rb") as fh:
                header = fh.read(len(_SQLITE_HEADER))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read results database ({exc})") from exc
        if header and header != _SQLITE_HEADER:
            raise StoreError(f"{self.path}: not an eva-bench results database (not a SQLite file)")

    def _init_schema(self) -> None:
        """Validate the file and create missing tables, all under one write lock so concurrent openers agree."""
        with self._write() as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
            version = meta.get("schema_version", "")
            if tables and meta.get("application") != APP_MARKER:
                raise StoreError(f"{self.path}: not an eva-bench results database (SQLite file of another program)")
            if tables and not version.isdigit():
                raise StoreError(f"{self.path}: eva-bench database has an invalid schema_version {version!r}")
            if tables and int(version) > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: written with schema version {version}, newer than this eva-bench "
                                 f"supports ({SCHEMA_VERSION}); upgrade eva-bench")
            for statement in _SCHEMA:
                conn.execute(statement)
            if tables and int(version) < SCHEMA_VERSION:
                _migrate(conn, int(version))
                logger.info("upgraded results database %s to schema version %d", self.path, SCHEMA_VERSION)
            if not tables:
                meta_rows = [("application", APP_MARKER), ("schema_version", str(SCHEMA_VERSION))]
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta_rows)
                logger.info("created results database %s", self.path)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; BEGIN IMMEDIATE makes other writers wait instead of failing."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so several queries see one consistent snapshot."""
        self._conn.execute("BEGIN")
        try:
            yield self._conn
        finally:
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection; further calls fail. Closing twice is harmless."""
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start_run(self, info: RunInfo) -> RunInfo:
        """Register a new run, or resume an existing one with the same settings.

        Args:
            info: The requested run. `created_at` is filled in when empty.

        Returns:
            The run as stored: for a resumed run, `episodes` is the max of stored and requested and `tasks` the
            union (stored first); its version, commit and creation time stay those of the first start.

        Raises:
            RunMismatchError: The run id exists with a different policy, checkpoint (path or digest), seed or
                seed split, instruction kind, embodiment, policy options or reward IDM (path or digest), or a task
                of the run changed version since its episodes were played.
            ValueError: `instruction_kind` is not "seen" or "unseen".
        """
        if info.instruction_kind not in ("seen", "unseen"):
            raise ValueError(f"instruction_kind must be 'seen' or 'unseen', got {info.instruction_kind!r}")
        if info.seed_split not in SEED_SPLITS:
            raise ValueError(f"seed_split must be one of {', '.join(SEED_SPLITS)}, got {info.seed_split!r}")
        requested = RunInfo(**{
            **asdict(info), "seed": int(info.seed), "episodes": int(info.episodes),
            "tasks": list(dict.fromkeys(info.tasks)), "created_at": info.created_at or _now(),
            # as read back, so they compare equal
            **{name: json.loads(_dumps(getattr(info, name))) for name in _JSON_RUN_FIELDS if name != "tasks"},
        })
        with self._write() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (info.run_id,)).fetchone()
            if row is None:
                values = {**asdict(requested), **{n: _dumps(getattr(requested, n)) for n in _JSON_RUN_FIELDS}}
                _insert(conn, "INSERT", "runs", values)
                logger.info("started run %s", info.run_id)
                return requested
            stored = _run_from_row(row)
            diffs = [f"{n}: stored {getattr(stored, n)!r}, requested {getattr(requested, n)!r}"
                     for n in _RUN_KEY_FIELDS if getattr(stored, n) != getattr(requested, n)]
            diffs += [f"task {task} version: stored {stored.task_versions[task]}, now {version} (its rule or scene "
                      "changed; start a new run id)" for task, version in requested.task_versions.items()
                      if stored.task_versions.get(task, version) != version]
            if diffs:
                raise RunMismatchError(f"run {info.run_id!r} exists with different settings: " + "; ".join(diffs))
            stored.episodes = max(stored.episodes, requested.episodes)
            stored.tasks = list(dict.fromkeys([*stored.tasks, *requested.tasks]))
            stored.task_versions = {**requested.task_versions, **stored.task_versions}
            update = (stored.episodes, _dumps(stored.tasks), _dumps(stored.task_versions), stored.run_id)
            conn.execute("UPDATE runs SET episodes = ?, tasks = ?, task_versions = ? WHERE run_id = ?", update)
            logger.info("resuming run %s", info.run_id)
            return stored

    def get_run(self, run_id: str) -> RunInfo | None:
        """The stored run, or None when the id is unknown."""
        row = self._conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else _run_from_row(row)

    def list_runs(self) -> list[RunInfo]:
        """All runs, newest first."""
        rows = self._conn.execute("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC").fetchall()
        return [_run_from_row(r) for r in rows]

    def add_episode(self, record: EpisodeRecord) -> bool:
        """Store one episode durably; `created_at` is filled in when empty.

        Returns:
            True if inserted, False if (run_id, task, episode) was already stored (the stored row is kept).

        Raises:
            KeyError: The run id was never started.
        """
        r = record
        values = {
            **asdict(r), "task_version": int(r.task_version), "episode": int(r.episode), "seed": int(r.seed),
            "success": int(bool(r.success)), "steps": int(r.steps), "step_limit": int(r.step_limit),
            "wall_time_s": float(r.wall_time_s), "reward": _opt(float, r.reward),
            "reward_components": _opt(_dumps, r.reward_components), "created_at": r.created_at or _now(),
            "policy_metrics": _opt(_dumps, r.policy_metrics),
        }
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (r.run_id,)).fetchone() is None:
                raise KeyError(f"unknown run id {r.run_id!r}; call start_run first")
            return _insert(conn, "INSERT", "episodes", values, "ON CONFLICT (run_id, task, episode) DO NOTHING") == 1

    def episodes(self, run_id: str, task: str | None = None) -> list[EpisodeRecord]:
        """Stored episodes of a run (optionally one task), ordered by task then episode index."""
        where, params = ("run_id = ?", [run_id]) if task is None else ("run_id = ? AND task = ?", [run_id, task])
        rows = self._conn.execute(f"SELECT * FROM episodes WHERE {where} ORDER BY task, episode", params).fetchall()
        return [_episode_from_row(r) for r in rows]

    def done(self, run_id: str) -> set[tuple[str, int]]:
        """The (task, episode) pairs of a run that are already stored."""
        rows = self._conn.execute("SELECT task, episode FROM episodes WHERE run_id = ?", (run_id,))
        return {(r["task"], r["episode"]) for r in rows}

    def record_seed_check(self, check: SeedCheck) -> None:
        """Store an expert seed check, replacing any earlier one for the same task, version, embodiment and seed."""
        with self._write() as conn:
            _insert(conn, "INSERT OR REPLACE", "seed_checks", {
                **asdict(check), "task_version": int(check.task_version), "seed": int(check.seed),
                "solvable": int(bool(check.solvable)), "expert_steps": _opt(int, check.expert_steps),
            })

    def seed_checks(self, task: str, task_version: int, embodiment: str) -> dict[int, SeedCheck]:
        """All stored seed checks of a task version on an embodiment, keyed by seed."""
        query = "SELECT * FROM seed_checks WHERE task = ? AND task_version = ? AND embodiment = ? ORDER BY seed"
        rows = self._conn.execute(query, (task, task_version, embodiment))
        return {r["seed"]: SeedCheck(**{**dict(r), "solvable": bool(r["solvable"])}) for r in rows}

    def set_task_seeds(self, run_id: str, task: str, seeds: list[int], skipped: int) -> None:
        """Record the evaluation seeds of a task in a run (episode order) and how many candidates were rejected."""
        values = {"run_id": run_id, "task": task, "seeds": json.dumps([int(s) for s in seeds]), "skipped": int(skipped)}
        with self._write() as conn:
            _insert(conn, "INSERT OR REPLACE", "run_task_seeds", values)

    def task_seeds(self, run_id: str, task: str) -> tuple[list[int], int] | None:
        """The (seeds, skipped) recorded for a task of a run, or None."""
        query = "SELECT seeds, skipped FROM run_task_seeds WHERE run_id = ? AND task = ?"
        row = self._conn.execute(query, (run_id, task)).fetchone()
        return None if row is None else (json.loads(row["seeds"]), row["skipped"])

    def summary(self, run_id: str) -> pandas.DataFrame:
        """Per-task results of a run, tasks in run order (tasks with stored episodes but not in the run follow).

        Returns:
            Columns task, episodes, successes, success_rate (NaN with no episodes), mean_steps, skipped_seeds,
            errors, mean_reward (NaN when no episode has a reward).

        Raises:
            KeyError: The run id is unknown.
        """
        import pandas

        with self._read() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise KeyError(f"unknown run id {run_id!r}")
            stats = {r["task"]: dict(r) for r in conn.execute(_SUMMARY_SQL, (run_id,))}
            skipped = dict(conn.execute("SELECT task, skipped FROM run_task_seeds WHERE run_id = ?", (run_id,)))
        empty = {"episodes": 0, "successes": 0, "mean_steps": None, "errors": 0, "mean_reward": None}
        rows = [
            {**empty, **stats.get(task, {}), "task": task, "skipped_seeds": skipped.get(task, 0)}
            for task in dict.fromkeys([*_run_from_row(row).tasks, *stats])
        ]
        columns = ["task", "episodes", "successes", "mean_steps", "skipped_seeds", "errors", "mean_reward"]
        frame = pandas.DataFrame(rows, columns=columns).astype({c: float if c.startswith("mean") else int
                                                                for c in columns[1:]})
        frame.insert(3, "success_rate", frame["successes"] / frame["episodes"].where(frame["episodes"] > 0))
        return frame

    def export_runs(self, run_ids: list[str], dest: str | os.PathLike, strip_prefix: str | None = None) -> int:
        """Copy runs (settings, episodes, chosen seeds) and the expert seed checks into a new database to share.

        Every text value has `strip_prefix` removed wherever it occurs, so that the absolute paths a run stored
        (checkpoints, reward IDM, videos) become relative to the folder the copy is published from. The copy is
        one self-contained file (rollback journal, no `-wal` beside it).

        Returns:
            The number of episodes copied.

        Raises:
            StoreError: A run id is unknown, or `dest` exists (nothing is overwritten).
        """
        dest = Path(dest)
        missing = [run_id for run_id in run_ids if self.get_run(run_id) is None]
        if missing:
            known = ", ".join(r.run_id for r in self.list_runs()) or "none"
            raise StoreError(f"{self.path}: no run {', '.join(map(repr, missing))}; runs: {known}")
        if dest.exists():
            raise StoreError(f"{dest}: exists; export writes a new database (remove it first)")

        def strip(value: Any) -> Any:
            return value.replace(strip_prefix, "") if strip_prefix and isinstance(value, str) else value

        ResultsStore(dest).close()  # the schema
        out = sqlite3.connect(str(dest), isolation_level=None)
        marks = ", ".join("?" * len(run_ids))
        try:
            out.execute("PRAGMA journal_mode = DELETE")
            out.execute("BEGIN")
            with self._read() as conn:
                for table, where, params in (("runs", f"run_id IN ({marks})", run_ids),
                                             ("episodes", f"run_id IN ({marks})", run_ids),
                                             ("run_task_seeds", f"run_id IN ({marks})", run_ids),
                                             ("seed_checks", "1", [])):
                    columns = [r[1] for r in out.execute(f"PRAGMA table_info({table})")]
                    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params)
                    out.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                    f"({', '.join('?' * len(columns))})",
                                    [tuple(strip(v) for v in row) for row in rows])
            copied = out.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
            out.execute("COMMIT")
        except BaseException:
            out.close()
            dest.unlink(missing_ok=True)
            raise
        out.close()
        return copied
