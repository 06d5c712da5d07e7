"""The settings of one evaluation run (`EvalConfig`), kept apart from the runner so that the command line takes
its defaults and help texts from it without importing the simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class EvalConfig:
    """One evaluation run.

    Args:
        policy: Registered policy name (see `eva-bench policies list`).
        tasks: Task names.
        run_id: Name of the run in the database; give an existing one to resume it.
        db_path: Results database file.
        output_dir: Folder for per-episode videos and action logs.
        episodes: Episodes per task (RoboTwin's protocol, as in the paper: 20).
        seed: Run seed: evaluation seeds start at 100000 * (1 + seed), validation seeds at
            100000 * seed + 50000.
        seed_split: "evaluation" (RoboTwin's seeds: report these) or "validation" (disjoint seeds for choosing
            checkpoints, as `eva-bench compare` does, so the evaluation seeds stay unseen).
        workers: Parallel worker processes, each with its own scene and its own copy of the policy.
        checkpoint: Weights for learned policies (None: the policy's default, if it has one).
        policy_options: Settings of the policy's config dataclass, KEY -> value (strings are parsed to the
            field's type; see `eva-bench policies show NAME`).
        instruction_kind: "unseen" (RoboTwin's evaluation default) or "seen" instruction templates.
        save_video: Record the head-camera mp4 of every episode.
        reward_idm: IDM checkpoint that decodes every episode's video into the actions whose executability
            reward is stored with the episode (None: $EVA_BENCH_IDM or the released IDM; "none" turns rewards
            off). The reward video is rendered from the IDM's source camera at its source resolution.
    """

    policy: str
    tasks: list[str]
    run_id: str
    db_path: Path
    output_dir: Path
    episodes: int = 20
    seed: int = 0
    seed_split: str = "evaluation"
    workers: int = 1
    checkpoint: str | None = None
    policy_options: dict = field(default_factory=dict)
    instruction_kind: str = "unseen"
    save_video: bool = True
    reward_idm: str | None = None

    def __post_init__(self) -> None:
        from eva_bench.idm.scoring import resolve_reward_idm
        from eva_bench.policy import POLICIES, policy_config
        from eva_bench.store import SEED_SPLITS
        from eva_bench.task import TASKS

        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.seed_split not in SEED_SPLITS:
            raise ValueError(f"seed split must be one of {', '.join(SEED_SPLITS)}, got {self.seed_split!r}")
        if self.instruction_kind not in ("seen", "unseen"):
            raise ValueError(f"instruction kind must be 'seen' or 'unseen', got {self.instruction_kind!r}")
        for task in self.tasks:
            TASKS.get(task)  # unknown names fail here, before anything runs
        # Options are validated against the policy's config here, without building the policy (workers do);
        # they are kept as converted values ("5" from the command line and 5 from Python are one setting).
        self.policy_config = policy_config(self.policy, self.policy_options)
        self.policy_options = {key: getattr(self.policy_config, key) for key in self.policy_options}
        self.checkpoint = POLICIES.get(self.policy).resolve_checkpoint(self.checkpoint)
        self.reward_idm = resolve_reward_idm(self.reward_idm)  # a missing or corrupt IDM fails here
