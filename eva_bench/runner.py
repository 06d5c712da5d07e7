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

import dataclasses
import logging
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eva_bench.checkpoint import CheckpointError, content_digest, git_commit, package_version, read_checkpoint
from eva_bench.errors import ProtocolError
from eva_bench.expert import run_expert
from eva_bench.fileio import atomic_path
from eva_bench.policy import POLICIES, Policy, check_chunk, policy_config
from eva_bench.run_config import EvalConfig
from eva_bench.sim.cameras import DEFAULT_RESOLUTION, camera_alias
from eva_bench.sim.embodiment import CONTROL_DT, PIPER_BIMANUAL
from eva_bench.sim.env import BimanualEnv
from eva_bench.store import SEED_SPLITS, EpisodeRecord, ResultsStore, RunInfo, SeedCheck
from eva_bench.task import TASKS
from eva_bench.workers import map_jobs, worker_env, worker_pool

log = logging.getLogger(__name__)

VIDEO_CAMERA = "head_camera"
MAX_CANDIDATES_PER_EPISODE = 10  # give up on a task whose expert fails this often


def eval_seed_start(seed: int, split: str = "evaluation") -> int:
    """First candidate seed of run seed `seed`: evaluation seeds start at 100000 * (1 + seed) (RoboTwin's),
    validation seeds (for choosing checkpoints, `eva-bench compare`) at 100000 * seed + 50000, so that they
    never meet the evaluation seeds nor the training seeds 0, 1, 2, ... of the demonstrations."""
    if split not in SEED_SPLITS:
        raise ValueError(f"seed split must be one of {', '.join(SEED_SPLITS)}, got {split!r}")
    return 100000 * (1 + seed) if split == "evaluation" else 100000 * seed + 50000


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
    reward = _scorer(config.reward_idm).describe() if config.reward_idm else {}
    with ResultsStore(config.db_path) as store:
        info = store.start_run(
            RunInfo(
                run_id=config.run_id,
                policy=config.policy,
                checkpoint=config.checkpoint,
                checkpoint_digest=content_digest(config.checkpoint) if config.checkpoint else "",
                checkpoint_info=_checkpoint_info(config.checkpoint),
                seed=config.seed,
                seed_split=config.seed_split,
                episodes=config.episodes,
                instruction_kind=config.instruction_kind,
                tasks=list(config.tasks),
                embodiment=PIPER_BIMANUAL.digest(),
                policy_options=dict(config.policy_options),
                policy_config=dataclasses.asdict(config.policy_config),
                eva_bench_version=package_version(),
                git_commit=git_commit(),
                reward_idm=config.reward_idm,
                reward_idm_digest=reward.get("digest", ""),
                reward_config=reward,
                task_versions={task: TASKS.get(task).version for task in config.tasks},
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


def _checkpoint_info(path: str | None) -> dict:
    """What reports need of an eva-bench checkpoint (kind, config, held-out metrics), stored with the run so
    no report reads a folder that may have changed since; {} for other checkpoints or none."""
    if not path:
        return {}
    try:
        checkpoint = read_checkpoint(path)
    except CheckpointError:
        return {}  # not an eva-bench checkpoint (e.g. a RoboTwin policy folder): its digest is still stored
    return {"kind": checkpoint.kind, "config": checkpoint.config, "metrics": checkpoint.metrics}


def _resolve_seeds(store: ResultsStore, pool, config: EvalConfig, task: str, progress: Progress | None) -> list[int]:
    """The first `episodes` expert-solvable seeds of `task` (cached checks are reused, new ones stored)."""
    task_cls = TASKS.get(task)
    embodiment = PIPER_BIMANUAL.digest()
    stored = store.task_seeds(config.run_id, task)
    chosen, skipped = (list(stored[0]), stored[1]) if stored else ([], 0)
    checks = store.seed_checks(task, task_cls.version, embodiment)
    start = eval_seed_start(config.seed, config.seed_split)
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
    """This worker's policy for the job, built on first use and kept: one instance per worker process."""
    key = (job.policy, job.checkpoint, job.policy_options)
    if key not in _WORKER_POLICIES:
        cls = POLICIES.get(job.policy)
        _WORKER_POLICIES[key] = cls(policy_config(job.policy, dict(job.policy_options)), job.checkpoint)
    return _WORKER_POLICIES[key]


def episode_paths(output_dir: str | Path, run_id: str, task: str, episode: int) -> tuple[Path, Path]:
    """Where an episode's video and action log are stored."""
    folder = Path(output_dir) / run_id / task
    return folder / f"episode{episode:03d}.mp4", folder / f"episode{episode:03d}_actions.npz"


def play_episode(job: EpisodeJob) -> EpisodeRecord:
    """Play one episode in this process and return its record (never raises for policy errors)."""
    started = time.perf_counter()
    task_cls = TASKS.get(job.task)
    policy = _worker_policy(job)
    scorer = _scorer(job.reward_idm) if job.reward_idm else None
    cameras = policy.camera_requests()
    if job.save_video:
        cameras.setdefault(VIDEO_CAMERA, DEFAULT_RESOLUTION)
    reward_view = None
    if scorer is not None:  # rendered at the IDM's source, whatever the policy asks for
        source = scorer.source
        reward_view = source.camera if cameras.get(source.camera, source.resolution) == source.resolution else \
            camera_alias(source.camera, source.resolution)
        cameras[reward_view] = source.resolution
    recorder = _Recorder(VIDEO_CAMERA if job.save_video else None, reward_view)
    env = worker_env(cameras)
    task = env.reset(task_cls, job.seed)
    instruction = task.episode_instruction(job.seed, job.instruction_kind)
    requested, error = [], None
    try:
        obs = _observe(env, policy, instruction, recorder)
        policy.reset(job.task, instruction, job.seed)
        while env.steps < task_cls.step_limit and not env.success:
            chunk = check_chunk(policy.act(obs), job.policy)
            executed = chunk[: policy.execute_steps or len(chunk)]
            for index, action in enumerate(executed):
                env.step(action)
                requested.append(action)
                done = env.success or env.steps >= task_cls.step_limit
                # one render per step: the policy's cameras when it needs them, with the recorder's views
                if policy.observes_steps or (index == len(executed) - 1 and not done):
                    obs = _observe(env, policy, instruction, recorder)
                else:
                    recorder.capture(env)
                if policy.observes_steps:
                    policy.observe(obs)
                if done:
                    break
    except Exception as exc:  # a crashing policy fails its episode; the run goes on
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.warning("%s episode %d (seed %d) failed: %s", job.task, job.episode, job.seed, error)
    video, actions = episode_paths(job.output_dir, job.run_id, job.task, job.episode)
    video_path = str(_save_video(video, recorder.video)) if recorder.video else None
    actions_path = str(_save_actions(actions, requested, job))
    metrics, error = _policy_outputs(policy, video if job.save_video else None, error)
    reward = scorer.score(np.stack(recorder.reward)) if scorer is not None and len(recorder.reward) > 1 else None
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
        policy_metrics=metrics,
    )


def _policy_outputs(policy: Policy, video: Path | None, error: str | None) -> tuple[dict | None, str | None]:
    """The policy's metrics of the episode (None when it has none), its videos saved beside `video` (their
    paths under "videos"), and the episode's error, extended if collecting them failed."""
    try:
        metrics = dict(policy.episode_metrics())
        if video is not None:
            saved = {name: str(_save_video(video.with_name(f"{video.stem}_{name}.mp4"), frames))
                     for name, frames in policy.episode_videos().items() if len(frames)}
            if saved:
                metrics["videos"] = saved
    except Exception as exc:
        problem = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return None, f"{error}; then {problem}" if error else problem
    return metrics or None, error


class _Recorder:
    """The frames an episode keeps: the saved video's camera and the reward scorer's view (None: not kept)."""

    def __init__(self, video_camera: str | None, reward_view: str | None) -> None:
        self.video_camera, self.reward_view = video_camera, reward_view
        self.video: list[np.ndarray] = []
        self.reward: list[np.ndarray] = []

    @property
    def views(self) -> list[str]:
        return [v for v in dict.fromkeys([self.video_camera, self.reward_view]) if v]

    def capture(self, env: BimanualEnv, observed: dict | None = None) -> None:
        """Keep this step's frames (taken from `observed`, an observation's camera dict, when it has them)."""
        frames = {view: (observed or {}).get(view, {}).get("rgb") for view in self.views}
        frames = {view: env.render(view) if frame is None else frame for view, frame in frames.items()}
        if self.video_camera:
            self.video.append(frames[self.video_camera])
        if self.reward_view:
            self.reward.append(frames[self.reward_view])


_WORKER_SCORERS: dict[str, object] = {}


def _scorer(checkpoint: str):
    """This process's reward scorer for the IDM at `checkpoint` (loaded once, one torch thread)."""
    if checkpoint not in _WORKER_SCORERS:
        import torch

        from eva_bench.idm.scoring import RewardScorer

        torch.set_num_threads(1)  # one worker per core
        _WORKER_SCORERS[checkpoint] = RewardScorer.load(checkpoint)
    return _WORKER_SCORERS[checkpoint]


def _observe(env: BimanualEnv, policy: Policy, instruction: str, recorder: _Recorder) -> dict:
    """The policy's observation, rendered together with the recorder's views (which keeps its frames)."""
    names = list(policy.cameras)
    obs = env.get_obs(names + [v for v in recorder.views if v not in names], policy.robot_mask_cameras)
    recorder.capture(env, obs["observation"])
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
