"""Demonstration collection: the expert's successful episodes as HDF5 files, videos and instructions.

Like RoboTwin's collector, in two passes: the expert plans on training seeds 0, 1, 2, ... in a physics-only
scene and the first `episodes` seeds it solves are kept; then each kept seed's actions are replayed in a scene
with cameras (the simulation is deterministic, so the replay succeeds again; it is checked) and every control
step's frames are recorded. Output folder:

    OUT/manifest.json                               what was collected, with which settings
    OUT/<task>/data/episode{i}.hdf5                 RoboTwin layout (see eva_bench.data.episode)
    OUT/<task>/video/episode{i}.mp4                 head-camera video at the control rate
    OUT/<task>/instructions/episode{i}.json         {"seen": [...], "unseen": [...]} filled templates

Resumable: the manifest records every expert check and every finished episode (files are written under
temporary names and renamed), so a killed collection continues without redoing or losing an episode.
"""

from __future__ import annotations

import contextlib
import json
import string
from collections.abc import Callable
from pathlib import Path

import numpy as np

from eva_bench.data.collect_config import VIDEO_CAMERA, CollectConfig
from eva_bench.data.episode import CameraFrames, Episode, encode_jpeg, write_episode
from eva_bench.errors import ProtocolError, UserError
from eva_bench.expert import replay, run_expert
from eva_bench.fileio import atomic_write
from eva_bench.sim.embodiment import CONTROL_DT, PIPER_BIMANUAL
from eva_bench.task import TASKS, Task
from eva_bench.workers import map_jobs, worker_env, worker_pool

MANIFEST = "manifest.json"
LOCK = ".lock"
MAX_SEEDS_PER_EPISODE = 4  # give up on a task whose expert fails on more than 3 of 4 seeds

Progress = Callable[[str, int, int], None]


class Manifest:
    """The collection's record on disk (`OUT/manifest.json`), rewritten atomically after every change."""

    def __init__(self, path: Path, settings: dict) -> None:
        self.path = path
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as error:
                raise UserError(f"{path} is not valid JSON ({error}); move it away to start a new collection") from None
            old = {k: data.get(k) for k in settings}
            if old != settings:
                raise UserError(f"{path.parent} holds a collection made with other settings {old}; "
                                f"use another --out for {settings}")
            self.data = data
        else:
            self.data = {**settings, "tasks": {}}

    def task(self, name: str, version: int) -> dict:
        """The task's record (created empty); a different task version cannot be continued."""
        record = self.data["tasks"].setdefault(name, {"version": version, "checks": {}, "episodes": []})
        if record["version"] != version:
            raise UserError(f"{self.path.parent} holds {name} v{record['version']}, the code is v{version}; "
                            "use another --out")
        return record

    def save(self) -> None:
        from eva_bench.runner import package_version

        self.data["eva_bench_version"] = package_version()
        atomic_write(self.path, json.dumps(self.data, indent=1, sort_keys=True))


def collect(config: CollectConfig, progress: Progress | None = None) -> dict:
    """Collect (or continue collecting) demonstrations; returns the manifest's data."""
    config.out.mkdir(parents=True, exist_ok=True)
    with _exclusive(config.out):
        return _collect(config, progress)


@contextlib.contextmanager
def _exclusive(out: Path):
    """Hold `OUT/.lock` for the collection: two collectors on one folder would overwrite each other's
    manifest."""
    import fcntl

    with open(out / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another collection is writing to {out}; wait for it or use another --out") from None
        yield


def _collect(config: CollectConfig, progress: Progress | None) -> dict:
    manifest = Manifest(config.out / MANIFEST, config.settings())
    with worker_pool(config.workers) as pool:
        plans: dict[tuple[str, int], np.ndarray] = {}
        for task in config.tasks:
            _choose_seeds(manifest, pool, config, task, plans, progress)
        manifest.save()
        jobs = []
        for task in config.tasks:
            record = manifest.task(task, TASKS.get(task).version)
            done = {e["episode"] for e in record["episodes"]}
            for episode, seed in enumerate(record["seeds"][: config.episodes]):
                if episode not in done:
                    jobs.append((task, episode, seed, plans.get((task, seed)), config.cameras, config.resolution,
                                 str(config.out)))
        for finished, entry in enumerate(map_jobs(pool, _record_episode, jobs), start=1):
            record = manifest.task(entry["task"], TASKS.get(entry["task"]).version)
            record["episodes"] = sorted([*record["episodes"], entry], key=lambda e: e["episode"])
            manifest.save()
            if progress:
                progress("episodes", finished, len(jobs))
    return manifest.data


def _choose_seeds(manifest: Manifest, pool, config: CollectConfig, task: str, plans: dict, progress) -> None:
    """Check training seeds 0, 1, 2, ... until `episodes` are solvable; record every check."""
    record = manifest.task(task, TASKS.get(task).version)
    checks = record["checks"]
    limit = MAX_SEEDS_PER_EPISODE * config.episodes

    def solvable() -> list[int]:
        return sorted(int(s) for s, c in checks.items() if c["solvable"])

    seed = 0
    while len(solvable()) < config.episodes:
        if seed >= limit:
            raise ProtocolError(f"{task}: the expert solved only {len(solvable())} of {limit} training seeds; "
                                f"cannot collect {config.episodes} episodes")
        needed = config.episodes - len(solvable())
        batch = []
        while len(batch) < needed + config.workers - 1 and seed < limit:
            if str(seed) not in checks:
                batch.append((task, seed))
            seed += 1
        for name, checked, ok, reason, actions in map_jobs(pool, _plan_seed, batch):
            checks[str(checked)] = {"solvable": ok, "reason": reason, "steps": len(actions)}
            if ok:
                plans[(name, checked)] = actions
        manifest.save()
        if progress:
            progress(f"expert {task}", min(len(solvable()), config.episodes), config.episodes)
    record["seeds"] = solvable()[: config.episodes]
    record["skipped_seeds"] = sorted(int(s) for s, c in checks.items()
                                     if not c["solvable"] and int(s) < record["seeds"][-1])


def _plan_seed(args: tuple[str, int]) -> tuple[str, int, bool, str, np.ndarray]:
    task, seed = args
    result = run_expert(task, seed, env=worker_env())
    return task, seed, result.solvable, result.reason, result.actions


def _record_episode(job: tuple) -> dict:
    """Replay the expert's actions on `seed` with cameras and write the episode's files."""
    task_name, episode, seed, actions, cameras, resolution, out = job
    task_cls = TASKS.get(task_name)
    if actions is None:  # a continued collection: plan again (deterministic, so the same actions)
        result = run_expert(task_cls, seed, env=worker_env())
        if not result.solvable:
            raise ProtocolError(f"{task_name} seed {seed} was solvable and is not any more: {result.reason}")
        actions = result.actions
    env = worker_env({name: tuple(resolution) for name in cameras})
    try:
        rows = replay(env, task_cls, seed, actions)
    except RuntimeError as error:
        raise ProtocolError(f"{error} (non-determinism?)") from error
    task = env.task
    data = _episode(rows, task, episode, seed)
    folder = Path(out) / task_name
    hdf5 = write_episode(folder / "data" / f"episode{episode}.hdf5", data)
    from eva_bench.video import write_mp4

    video = write_mp4(folder / "video" / f"episode{episode}.mp4",
                      [r["observation"][VIDEO_CAMERA]["rgb"] for r in rows], fps=1.0 / CONTROL_DT)
    instructions = folder / "instructions" / f"episode{episode}.json"
    atomic_write(instructions, json.dumps(filled_instructions(task), indent=1))
    return {
        "task": task_name,
        "episode": episode,
        "seed": seed,
        "frames": len(rows),
        "hdf5": str(hdf5.relative_to(out)),
        "video": str(video.relative_to(out)),
        "instructions": str(instructions.relative_to(out)),
    }


def _episode(rows: list[dict], task: Task, episode: int, seed: int) -> Episode:
    cameras = {}
    for name in rows[0]["observation"]:
        per = [r["observation"][name] for r in rows]
        cameras[name] = CameraFrames(
            [encode_jpeg(p["rgb"]) for p in per],
            np.stack([p["intrinsic_cv"] for p in per]),
            np.stack([p["extrinsic_cv"] for p in per]),
            np.stack([p["cam2world_gl"] for p in per]),
        )
    return Episode(
        vector=np.stack([r["joint_action"]["vector"] for r in rows]),
        endpose={k: np.stack([r["endpose"][k] for r in rows]) for k in ("left_endpose", "right_endpose")},
        cameras=cameras,
        attrs={
            "task": task.name,
            "task_version": task.version,
            "seed": seed,
            "episode": episode,
            "instruction": task.episode_instruction(seed, "seen"),
            "control_dt": CONTROL_DT,
            "embodiment": PIPER_BIMANUAL.digest(),
        },
    )


def filled_instructions(task: Task) -> dict[str, list[str]]:
    """Every seen and unseen template of `task` filled with this episode's object attributes."""
    slots = task.instruction_slots()

    def fill(templates) -> list[str]:
        out = []
        for template in templates:
            text = string.Formatter().vformat(template, (), slots)
            out.append(text[0].upper() + text[1:])
        return out

    return {"seen": fill(task.seen_instructions), "unseen": fill(task.unseen_instructions)}
