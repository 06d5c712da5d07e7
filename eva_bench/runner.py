"""The evaluation protocol (RoboTwin 2.0's, made reproducible and resumable).

For every task: candidate seeds start at `100000 * (1 + seed)`; a candidate is used only if the scripted expert
solves it (the expert check), and the first `episodes` usable seeds become the episodes. Checks are cached in
the results database, so no seed is ever checked twice. Each episode rebuilds the scene from its seed, draws
its instruction from a seeded generator, and runs the policy receding-horizon until the success latch fires or
the task's step limit (in control steps) is reached. The head-camera video and the action log are saved per
episode and the row is committed to the database as soon as the episode ends, so a run killed at any moment
continues, with the same run id, exactly where it stopped.

Episodes run in worker processes (`workers`), each with its own scene; only the main process writes the
database.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eva_bench.errors import ProtocolError
from eva_bench.expert import run_expert
from eva_bench.fileio import atomic_path
from eva_bench.paths import released_idm_dir
from eva_bench.policy import POLICIES, Policy, check_chunk, make_policy
from eva_bench.sim.cameras import DEFAULT_RESOLUTION
from eva_bench.sim.embodiment import PIPER_BIMANUAL
from eva_bench.sim.env import CONTROL_DT, BimanualEnv
from eva_bench.store import EpisodeRecord, ResultsStore, RunInfo, SeedCheck
from eva_bench.task import TASKS
from eva_bench.workers import map_jobs, worker_env, worker_pool

log = logging.getLogger(__name__)

VIDEO_CAMERA = "head_camera"
REWARD_CONFIG_FILE = "reward.json"  # beside an IDM checkpoint: the reward constants (calibrated P0)
MAX_CANDIDATES_PER_EPISODE = 10  # give up on a task whose expert fails this often


def eval_seed_start(seed: int) -> int:
    """First candidate evaluation seed for run seed `seed` (RoboTwin: 100000 * (1 + seed))."""
    return 100000 * (1 + seed)


@dataclass
class EvalConfig:
    """One evaluation run.

    Args:
        policy: Registered policy name.
        tasks: Task names.
        episodes: Episodes per task (RoboTwin's protocol in the paper: 20).
        seed: Run seed; evaluation seeds start at 100000 * (1 + seed).
        run_id: Name of the run in the database; resuming uses the same id.
        db_path: Results database file.
        output_dir: Folder for per-episode videos and action logs.
        workers: Parallel worker processes (each with its own scene).
        checkpoint: Weights for learned policies.
        policy_options: Extra keyword arguments for the policy constructor.
        instruction_kind: "unseen" (RoboTwin's evaluation default) or "seen" instruction templates.
        save_video: Whether to record the head-camera mp4 of every episode.
        reward_idm: IDM checkpoint that decodes every episode's head-camera video into the actions whose
            executability reward is stored with the episode ("" turns rewards off; default: the released IDM
            when present, see `eva_bench.paths.released_idm_dir`).
    """

    policy: str
    tasks: list[str]
    run_id: str
    db_path: Path
    output_dir: Path
    episodes: int = 20
    seed: int = 0
    workers: int = 1
    checkpoint: str | None = None
    policy_options: dict = field(default_factory=dict)
    instruction_kind: str = "unseen"
    save_video: bool = True
    reward_idm: str | None = None

    def __post_init__(self) -> None:
        if self.reward_idm is None:
            released = released_idm_dir()
            self.reward_idm = str(released) if (released / "config.json").is_file() else ""
        if self.reward_idm:
            from eva_bench.idm.model import IDM

            IDM.load_config(self.reward_idm)  # a missing or corrupt checkpoint fails here, before anything runs
        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.instruction_kind not in ("seen", "unseen"):
            raise ValueError(f"instruction kind must be 'seen' or 'unseen', got {self.instruction_kind!r}")
        for task in self.tasks:
            TASKS.get(task)  # unknown names fail here, before anything runs
        POLICIES.get(self.policy)


@dataclass(frozen=True)
class EpisodeJob:
    """Everything a worker needs to play one episode."""

    run_id: str
    policy: str
    checkpoint: str | None
    policy_options: tuple
    task: str
    episode: int
    seed: int
    instruction_kind: str
    output_dir: str
    save_video: bool
    reward_idm: str = ""


Progress = Callable[[str, int, int], None]


def evaluate(config: EvalConfig, progress: Progress | None = None) -> RunInfo:
    """Run (or resume) an evaluation; returns the run's stored description.

    Args:
        config: What to evaluate.
        progress: Optional callback `(stage, done, total)` for progress display.
    """
    policy = make_policy(config.policy, config.checkpoint, **config.policy_options)  # fail fast on bad options
    # A policy may resolve a default checkpoint itself (idm-oracle: the released IDM); record what it loaded.
    checkpoint = config.checkpoint or getattr(policy, "checkpoint", None)
    with ResultsStore(config.db_path) as store:
        info = store.start_run(
            RunInfo(
                run_id=config.run_id,
                policy=config.policy,
                checkpoint=checkpoint,
                seed=config.seed,
                episodes=config.episodes,
                instruction_kind=config.instruction_kind,
                tasks=list(config.tasks),
                embodiment=PIPER_BIMANUAL.digest(),
                policy_options=dict(config.policy_options),
                eva_bench_version=package_version(),
                reward_idm=config.reward_idm or "",
            )
        )
        with worker_pool(config.workers) as pool:
            seeds = {task: _resolve_seeds(store, pool, config, task, progress) for task in config.tasks}
            done = store.done(config.run_id)
            jobs = [
                EpisodeJob(
                    config.run_id, config.policy, config.checkpoint, tuple(sorted(config.policy_options.items())),
                    task, episode, seed, config.instruction_kind, str(config.output_dir), config.save_video,
                    config.reward_idm,
                )
                for task in config.tasks
                for episode, seed in enumerate(seeds[task][: config.episodes])
                if (task, episode) not in done
            ]
            total = len(jobs)
            for finished, record in enumerate(map_jobs(pool, play_episode, jobs), start=1):
                store.add_episode(record)
                if progress:
                    progress("episodes", finished, total)
        return store.get_run(config.run_id) or info


def _resolve_seeds(store: ResultsStore, pool, config: EvalConfig, task: str, progress: Progress | None) -> list[int]:
    """The first `episodes` expert-solvable seeds of `task` (cached checks are reused, new ones stored)."""
    task_cls = TASKS.get(task)
    embodiment = PIPER_BIMANUAL.digest()
    stored = store.task_seeds(config.run_id, task)
    chosen, skipped = (list(stored[0]), stored[1]) if stored else ([], 0)
    checks = store.seed_checks(task, task_cls.version, embodiment)
    start = eval_seed_start(config.seed)
    candidate = (max(chosen) + 1) if chosen else start
    limit = start + MAX_CANDIDATES_PER_EPISODE * config.episodes

    def scan() -> None:
        """Advance through consecutive checked candidates, keeping the solvable ones."""
        nonlocal candidate, skipped
        while candidate in checks and len(chosen) < config.episodes:
            if checks[candidate].solvable:
                chosen.append(candidate)
            else:
                skipped += 1
            candidate += 1
        if progress:
            progress(f"expert check {task}", len(chosen), config.episodes)

    scan()
    while len(chosen) < config.episodes:
        if candidate >= limit:
            raise ProtocolError(
                f"{task}: the expert solved only {len(chosen)} of {candidate - start} candidate seeds from {start}; "
                f"cannot reach {config.episodes} episodes"
            )
        needed = config.episodes - len(chosen)
        batch = [s for s in range(candidate, min(limit, candidate + needed + config.workers)) if s not in checks]
        for result in map_jobs(pool, _check_seed, [(task, s) for s in batch]):
            store.record_seed_check(result)
            checks[result.seed] = result
            scan()
    store.set_task_seeds(config.run_id, task, chosen, skipped)
    return chosen


def check_expert(
    tasks: list[str], seeds: Iterable[int], workers: int = 1, progress: Progress | None = None
) -> dict[str, list[SeedCheck]]:
    """Run each task's expert on `seeds` (e.g. training seeds 0..49) and report every seed's outcome."""
    seeds = list(seeds)
    jobs = [(task, seed) for task in tasks for seed in seeds]
    results: dict[str, list[SeedCheck]] = {task: [] for task in tasks}
    with worker_pool(workers) as pool:
        for done, check in enumerate(map_jobs(pool, _check_seed, jobs), start=1):
            results[check.task].append(check)
            if progress:
                progress("expert", done, len(jobs))
    return {task: sorted(checks, key=lambda c: c.seed) for task, checks in results.items()}


def _check_seed(args: tuple[str, int]) -> SeedCheck:
    task, seed = args
    task_cls = TASKS.get(task)
    result = run_expert(task_cls, seed, env=worker_env({}))
    return SeedCheck(task, task_cls.version, PIPER_BIMANUAL.digest(), seed, result.solvable, result.reason,
                     len(result.actions))


# ---------------------------------------------------------------------------------------------- one episode
_WORKER_POLICIES: dict[tuple, Policy] = {}


def _worker_policy(job: EpisodeJob) -> Policy:
    key = (job.policy, job.checkpoint, job.policy_options)
    if key not in _WORKER_POLICIES:
        _WORKER_POLICIES[key] = make_policy(job.policy, job.checkpoint, **dict(job.policy_options))
    return _WORKER_POLICIES[key]


def episode_paths(output_dir: str | Path, run_id: str, task: str, episode: int) -> tuple[Path, Path]:
    """Where an episode's video and action log are stored."""
    folder = Path(output_dir) / run_id / task
    return folder / f"episode{episode:03d}.mp4", folder / f"episode{episode:03d}_actions.npz"


def instruction_for(task, seed: int, kind: str) -> str:
    """The episode's instruction: drawn from the task's templates with a generator seeded by the seed."""
    return task.instruction(kind, np.random.default_rng([seed, 1]))


def play_episode(job: EpisodeJob) -> EpisodeRecord:
    """Play one episode in this process and return its record (never raises for policy errors)."""
    started = time.perf_counter()
    task_cls = TASKS.get(job.task)
    policy = _worker_policy(job)
    cameras = policy.camera_requests()
    record_frames = job.save_video or bool(job.reward_idm)  # the reward decodes the head-camera video
    if record_frames:
        cameras.setdefault(VIDEO_CAMERA, DEFAULT_RESOLUTION)
    env = worker_env(cameras)
    task = env.reset(task_cls, job.seed)
    instruction = instruction_for(task, job.seed, job.instruction_kind)
    frames, requested, error = [], [], None
    try:
        obs = _observe(env, policy, instruction, record_frames, frames)
        policy.reset(job.task, instruction, job.seed)
        while env.steps < task_cls.step_limit and not env.success:
            chunk = check_chunk(policy.act(obs), job.policy)
            for action in chunk[: policy.execute_steps or len(chunk)]:
                env.step(action)
                requested.append(action)
                if record_frames:
                    frames.append(env.render(VIDEO_CAMERA))
                if env.success or env.steps >= task_cls.step_limit:
                    break
            else:
                obs = _observe(env, policy, instruction, False, frames)
    except Exception as exc:  # a crashing policy fails its episode; the run goes on
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.warning("%s episode %d (seed %d) failed: %s", job.task, job.episode, job.seed, error)
    video, actions = episode_paths(job.output_dir, job.run_id, job.task, job.episode)
    video_path = str(_save_video(video, frames)) if job.save_video and frames else None
    actions_path = str(_save_actions(actions, requested, job))
    reward = _episode_reward(job.reward_idm, frames) if job.reward_idm and len(frames) > 1 else None
    return EpisodeRecord(
        run_id=job.run_id,
        task=job.task,
        task_version=task_cls.version,
        episode=job.episode,
        seed=job.seed,
        instruction=instruction,
        success=bool(env.success),
        steps=int(env.steps),
        step_limit=task_cls.step_limit,
        wall_time_s=time.perf_counter() - started,
        video_path=video_path,
        actions_path=actions_path,
        reward=reward.reward if reward else None,
        reward_components=reward.to_dict() if reward else None,
        error=error,
    )


_WORKER_REWARD_MODELS: dict[str, tuple] = {}


def _episode_reward(checkpoint: str, frames: list[np.ndarray]):
    """The executability reward (with components) of the executed episode: its head-camera video decoded by
    the IDM at `checkpoint`, scored with the reward config stored beside it (`reward.json`)."""
    if checkpoint not in _WORKER_REWARD_MODELS:
        import torch

        from eva_bench.idm.model import load_idm
        from eva_bench.idm.reward import RewardConfig

        torch.set_num_threads(1)  # one worker per core
        config_path = Path(checkpoint) / REWARD_CONFIG_FILE
        config = RewardConfig.load(config_path) if config_path.is_file() else RewardConfig()
        if not config_path.is_file():
            log.warning("no %s beside the IDM at %s: the reward uses P0 = %s", REWARD_CONFIG_FILE, checkpoint,
                        config.p0)
        _WORKER_REWARD_MODELS[checkpoint] = (load_idm(checkpoint), config)
    from eva_bench.idm.reward import executability

    model, config = _WORKER_REWARD_MODELS[checkpoint]
    return executability(model.decode_video(np.stack(frames)), config)  # every frame, like `reward calibrate`


def _observe(env: BimanualEnv, policy: Policy, instruction: str, first_frame: bool, frames: list) -> dict:
    """The policy's observation; the first call also grabs the video's initial frame."""
    names = list(policy.cameras)
    if first_frame and VIDEO_CAMERA not in names:
        names.append(VIDEO_CAMERA)
    obs = env.get_obs(names)
    if first_frame:
        frames.append(obs["observation"][VIDEO_CAMERA]["rgb"])
        obs["observation"] = {k: v for k, v in obs["observation"].items() if k in policy.cameras}
    obs["instruction"] = instruction
    return obs


def _save_video(path: Path, frames: list[np.ndarray]) -> Path:
    from eva_bench.video import write_mp4

    return write_mp4(path, frames, fps=1.0 / CONTROL_DT)


def _save_actions(path: Path, requested: list[np.ndarray], job: EpisodeJob) -> Path:
    actions = np.asarray(requested, np.float32).reshape(-1, 14)
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, actions=actions, seed=job.seed, control_dt=CONTROL_DT)
    return path


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eva-bench")
    except PackageNotFoundError:
        return "unknown"
