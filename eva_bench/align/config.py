"""`GRPOConfig`: the settings of one Flow-GRPO alignment run (`eva-bench train grpo` takes its defaults and help
texts from here). Torch-free, so the command line starts fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.training.config import TrainerConfig

REWARDS = ("idm", "brightness")
ADVANTAGE_STD = ("group", "batch")


@dataclass(kw_only=True)
class GRPOConfig(TrainerConfig):
    """One Flow-GRPO run on a world model (paper sections 3.2, 4.2, appendix C; the paper's value in brackets
    where it gives one).

    Args:
        init: The SFT world-model checkpoint (or training run) to align; its weights stay frozen under the LoRA
            adapter, and are the KL term's reference.
        data: Demonstrations the prompts come from (recent 4 frames + instruction): training seeds only, never
            evaluation seeds.
        out: Run folder: the adapter lands in out/model (kind "lora"), the resumable state in out/state,
            per-step statistics in out/grpo_log.csv; an existing run there is resumed.
        steps: Optimizer steps in total (each samples new rollouts, or reuses them for inner epochs).
        batch_size: Prompts per step, each with `group_size` rollouts.
        lr: Peak learning rate of the adapter [2e-4].
        warmup: Warm-up steps.
        tasks: Prompts only from these tasks (None: every task under `data`).
        reward: "idm" (the executability reward of the frozen IDM, the paper's) or "brightness" (mean frame
            brightness: a toy reward for tests and smoke runs).
        reward_idm: IDM of the reward and of the hacking detectors; None: the released IDM.
        group_size: Rollouts per prompt, G [8].
        sample_steps: SDE steps per rollout.
        noise_level: The SDE's noise level a (Flow-GRPO's default 0.7).
        timestep_fraction: Share of the sampling steps trained (from the first; Flow-GRPO: 0.99 of 10 = 9).
        clip_range: PPO ratio clip epsilon [0.001].
        adv_clip: Advantages clipped to +-this [5.0].
        beta: Weight of the KL term to the reference (the adapter off) [0.004].
        advantage_std: "group" (per-prompt std, the paper's per-prompt normalization) or "batch" (Flow-GRPO's
            global std).
        inner_epochs: Optimizer steps per sampled batch (each a pass over its trained timesteps) [4]; the run's
            checkpoints fall on whole cycles.
        lora_rank: LoRA rank [32].
        lora_alpha: LoRA alpha (Flow-GRPO: 2 x rank).
        weight_decay: AdamW weight decay [0.05].
        beta2: AdamW's second-moment decay [0.95].
        max_grad_norm: Gradient-norm clip [1.0].
        history_latents: Real history latents conditioning each rollout (1 = 4 frames, the paper's).
        segment_latents: Latents per rollout (4 = 16 frames).
        shift: The sampler's level shift (the SFT run's).
        static_threshold: Decoded joint motion (rad, summed over the segment and the arm joints) under which a
            rollout counts as a static robot while the prompt's expert moves more than twice as much.
        snapshot_every: Steps between adapter snapshots kept in out/snapshots/step-NNNNN (a multiple of
            checkpoint_every; the last step is always kept; 0: only the last), the checkpoints that
            `eva-bench compare` ranks for early stopping.
        val_prompts: Validation prompts (held-out episodes) of the periodic evaluation (ODE rollouts).
        videos: Rollout mp4s written per evaluation (under out/videos).
        split_seed: Seed of the held-out split of the prompts' episodes.
        holdout: Fraction of episodes whose prompts are validation prompts.
    """

    init: str
    data: str
    steps: int = 200
    batch_size: int = 1
    lr: float = 2e-4
    warmup: int = 5
    eval_every: int = 20
    checkpoint_every: int = 4
    snapshot_every: int = 20
    max_grad_norm: float = 1.0
    tasks: list[str] | None = None
    reward: str = "idm"
    reward_idm: str | None = None
    group_size: int = 8
    sample_steps: int = 10
    noise_level: float = 0.7
    timestep_fraction: float = 0.9
    clip_range: float = 1e-3
    adv_clip: float = 5.0
    beta: float = 0.004
    advantage_std: str = "group"
    inner_epochs: int = 4
    lora_rank: int = 32
    lora_alpha: float = 64.0
    weight_decay: float = 0.05
    beta2: float = 0.95
    history_latents: int = 1
    segment_latents: int = 4
    shift: float = 3.0
    static_threshold: float = 0.05
    val_prompts: int = 8
    videos: int = 2
    split_seed: int = 0
    holdout: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        self.init = str(Path(self.init).resolve())
        self.data = str(Path(self.data).resolve())
        if self.reward not in REWARDS:
            raise UserError(f"reward must be one of {', '.join(REWARDS)}, got {self.reward!r}")
        if self.advantage_std not in ADVANTAGE_STD:
            raise UserError(f"advantage_std must be one of {', '.join(ADVANTAGE_STD)}, got {self.advantage_std!r}")
        if self.group_size < 2:
            raise UserError("group_size must be >= 2: advantages compare rollouts of one prompt")
        if not 0 < self.timestep_fraction <= 1 or self.sample_steps < 1 or self.noise_level <= 0:
            raise UserError("timestep_fraction must be in (0, 1], sample_steps >= 1 and noise_level > 0")
        if self.inner_epochs < 1 or self.checkpoint_every % self.inner_epochs:
            raise UserError(f"checkpoint_every ({self.checkpoint_every}) must be a multiple of inner_epochs "
                            f"({self.inner_epochs}): a resumed run continues at a whole sampling cycle")
        if self.snapshot_every < 0 or self.snapshot_every % self.checkpoint_every:
            raise UserError(f"snapshot_every ({self.snapshot_every}) must be a multiple of checkpoint_every "
                            f"({self.checkpoint_every}), or 0")
        if min(self.clip_range, self.adv_clip, self.lora_rank, self.lora_alpha) <= 0 or self.beta < 0:
            raise UserError("clip_range, adv_clip, lora_rank and lora_alpha must be > 0, beta >= 0")
        if self.grad_accum != 1:
            raise UserError("grad_accum must be 1 for GRPO (a step's rollouts are one batch)")

    @property
    def train_timesteps(self) -> int:
        """Sampling steps whose transitions are trained (the first ones, at least one)."""
        return max(1, int(self.sample_steps * self.timestep_fraction))

    def trainer_config(self) -> TrainerConfig:
        """The generic trainer's part of this config."""
        return TrainerConfig(**{f.name: getattr(self, f.name) for f in fields(TrainerConfig)})

    def to_dict(self) -> dict:
        return asdict(self)
