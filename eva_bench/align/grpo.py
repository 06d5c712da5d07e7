"""Flow-GRPO on the world model (paper sections 3.2, 4.2): `train_grpo(config)` on the shared trainer.

A sampling cycle (every `inner_epochs` optimizer steps): for each prompt of the step (the real frames up to a
frame of a training demo, one latent = 4 frames, and one of its seen instructions), `group_size` segments are
sampled with the SDE sampler (`eva_bench.world_model.flow.generate_with_logprob`, the adapter on), decoded by
the autoencoder and scored (`eva_bench.align.rewards`: the IDM executability reward, with the hacking
detectors beside it); advantages are the rewards normalized within each prompt's group (by the group's or the
batch's std), clipped to +-adv_clip. Each optimizer step of the cycle re-scores the stored transitions of the
first `train_timesteps` sampling steps under the current weights and minimizes Flow-GRPO's loss, averaged over
those steps:

    max(-A r, -A clip(r, 1 - eps, 1 + eps)) + beta * |mu - mu_ref|^2 / (2 std^2),   r = p_now / p_sampled,

with mu_ref the step's mean with the adapter off (the SFT model: the reference policy). Only the LoRA adapter
trains. Randomness is drawn from (seed, cycle, prompt), so a run resumed at a checkpoint (checkpoints fall on
whole cycles) takes the same steps. Per step, `grpo_log.csv` records the reward (mean, std, components), the
detectors, approx-KL, clip fraction, the share of zero-std groups and the seconds spent sampling, scoring and
in the loss's forward pass. The periodic evaluation samples held-out prompts with the ODE (noise off, fixed
seeds), reports their mean reward and detectors, and writes a few rollout mp4s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from eva_bench.align.config import GRPOConfig
from eva_bench.align.lora import add_lora, save_lora
from eva_bench.align.rewards import SegmentReward, SegmentScores
from eva_bench.checkpoint import make_provenance, read_checkpoint
from eva_bench.data.dataset import training_split
from eva_bench.data.episode import EpisodeFile
from eva_bench.errors import UserError
from eva_bench.training import ConfiguredTask, fit
from eva_bench.training.logs import CsvLog
from eva_bench.training.sampling import batch_indices
from eva_bench.world_model.autoencoder import to_uint8
from eva_bench.world_model.flow import Trajectory, generate, generate_with_logprob, transition_log_prob
from eva_bench.world_model.latents import episode_instructions
from eva_bench.world_model.model import VideoWorldModel
from eva_bench.world_model.pipeline import WorldModelPipeline

LOG_FILE = "grpo_log.csv"
LOG_COLUMNS = ("step", "reward_mean", "reward_std", "zero_std_ratio", "static", "motion", "gripper_out_of_range",
               "frozen_gripper", "approx_kl", "clipfrac", "policy_loss", "kl_loss", "penalty", "jerk_huber",
               "acc_huber", "vel_limit", "acc_limit", "sample_s", "reward_s", "loss_forward_s")
CAMERA = "head_camera"


class Prompts:
    """Every prompt of a set of episodes: (episode, frame s) with 4 real frames ending at s and a whole segment
    (and its recorded actions) after it; an instruction per prompt from the episode's seen ones."""

    def __init__(self, paths: list[Path], group: int, segment_frames: int) -> None:
        self.paths = [Path(p) for p in paths]
        self.group, self.segment_frames = group, segment_frames
        self.instructions = [episode_instructions(p) for p in self.paths]
        self.index = [(e, s) for e, p in enumerate(self.paths)
                      for s in range(group - 1, len(EpisodeFile(p)) - segment_frames, group)]

    def __len__(self) -> int:
        return len(self.index)

    def get(self, prompt: int) -> tuple[np.ndarray, str, np.ndarray]:
        """(history frames (group, H, W, 3), instruction, the expert's actions (segment + 1, 14) from frame s)."""
        episode, s = self.index[prompt]
        file = EpisodeFile(self.paths[episode])
        history = file.frames(CAMERA, list(range(s - self.group + 1, s + 1)))
        texts = self.instructions[episode]
        return history, texts[prompt % len(texts)], file.vector[s: s + self.segment_frames + 1]


@dataclass
class Rollouts:
    """One sampling cycle's rollouts (B = prompts x group_size rows)."""

    cycle: int
    history: torch.Tensor  # (B, 1, C, h, w) clean history latents
    text: torch.Tensor  # (B, L, D)
    trajectory: Trajectory
    advantages: torch.Tensor  # (B,)
    scores: list[SegmentScores]
    stats: dict


class GRPOTraining(ConfiguredTask):
    """Flow-GRPO's part of a training run (module docstring)."""

    kind = "lora"
    resumable = ("val_prompts", "videos", "reward_idm", "snapshot_every")
    eval_columns = {"val_reward": ".4f", "val_static": ".3f", "val_motion": ".3f"}

    def __init__(self, config: GRPOConfig) -> None:
        super().__init__(config)
        self.rollouts: Rollouts | None = None
        self.last_step: int | None = None  # the step of this process's latest loss (None: none yet)

    # ------------------------------------------------------------------ data
    def setup(self) -> None:
        config = self.config
        self.init = read_checkpoint(config.init, "world_model")
        self.pipeline = WorldModelPipeline.load(self.init.folder)
        train, val = training_split(config.data, config.tasks, config.holdout, config.split_seed)
        frames = config.segment_latents * self.pipeline.group
        self.prompts = Prompts(train, self.pipeline.group, frames)
        self.val_prompts = Prompts(val, self.pipeline.group, frames) if val else None
        if not len(self.prompts):
            raise UserError(f"no prompt: the episodes under {config.data} are shorter than one segment")
        self.split = {"train": [str(p) for p in train], "val": [str(p) for p in val]}
        scorer = None
        if config.reward == "idm" or config.reward_idm not in ("", "none"):
            from eva_bench.idm.scoring import RewardScorer, resolve_reward_idm

            folder = resolve_reward_idm(config.reward_idm)
            scorer = RewardScorer.load(folder) if folder else None
        self.reward = SegmentReward(config.reward, scorer, config.static_threshold)
        self.log = CsvLog(Path(config.out) / LOG_FILE, LOG_COLUMNS)

    @property
    def num_samples(self) -> int:
        return len(self.prompts)

    # ------------------------------------------------------------------ model
    def build_model(self) -> VideoWorldModel:
        model = VideoWorldModel.load(self.init.folder)
        return add_lora(model, self.config.lora_rank, self.config.lora_alpha)

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        trainable = [p for p in model.parameters() if p.requires_grad]
        return torch.optim.AdamW(trainable, lr=lr, betas=(0.9, self.config.beta2),
                                 weight_decay=self.config.weight_decay)

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> dict:
        # The prompts of a cycle are those of its first step, so the inner epochs reuse its rollouts.
        cycle = step // self.config.inner_epochs
        prompts = batch_indices(cycle, self.config.batch_size, len(self.prompts), self.config.seed)
        return {"step": torch.tensor(step), "prompts": torch.from_numpy(prompts)}

    # ------------------------------------------------------------------ sampling, loss
    def sample(self, model: VideoWorldModel, prompts: list[int], cycle: int) -> Rollouts:
        """Rollouts of `prompts` with the current weights, scored, with advantages (`sample_rollouts`)."""
        seed = self.config.seed * 1_000_003 + cycle * 10_007
        groups = [(*self.prompts.get(prompt), seed + prompt) for prompt in prompts]
        return sample_rollouts(model, self.pipeline, self.reward, self.config, groups, cycle)

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        config = self.config
        step = int(batch["step"])
        cycle = step // config.inner_epochs
        net = self.unwrap(model)
        if self.rollouts is None or self.rollouts.cycle != cycle:
            self.rollouts = self.sample(net, [int(p) for p in batch["prompts"]], cycle)
        started = time.perf_counter()
        total, diagnostics = grpo_loss(model, net, self.rollouts, config)
        if self.accelerator is None or self.accelerator.is_main_process:
            if self.last_step is None:  # a resumed run writes the rows after its checkpoint again
                self.log.truncate(step)
            self.log.append({"step": step + 1, **{k: f"{v:.6g}" for k, v in self.rollouts.stats.items()},
                             **{k: f"{v:.6g}" for k, v in diagnostics.items()},
                             "loss_forward_s": f"{time.perf_counter() - started:.2f}"})
        self.last_step = step + 1
        return total

    # ------------------------------------------------------------------ evaluation, export
    @torch.no_grad()
    def evaluate(self, model: VideoWorldModel, final: bool) -> dict | None:
        """ODE rollouts (noise off, fixed seeds) of evenly spread held-out prompts: reward and detectors."""
        if self.val_prompts is None or not len(self.val_prompts):
            return None
        config, pipeline = self.config, self.pipeline
        count = min(len(self.val_prompts), config.val_prompts)
        chosen = np.linspace(0, len(self.val_prompts) - 1, count).round().astype(int)
        rewards, detectors, videos = [], [], []
        for number, prompt in enumerate(chosen):
            history, instruction, expert = self.val_prompts.get(int(prompt))
            latent = pipeline.history_latents(history, config.history_latents)
            text = pipeline.encoder.encode([instruction])
            imagined = generate(model, latent, config.segment_latents, text, config.sample_steps, config.shift,
                                torch.Generator().manual_seed(number))
            video = to_uint8(pipeline.autoencoder.decode(imagined)).transpose(0, 1, 3, 4, 2)
            scores = self.reward(history, video, expert)
            rewards.append(float(scores.reward[0]))
            detectors.append(scores.detector_means())
            if number < config.videos:
                videos.append(np.concatenate([history, video[0]]))
        self._write_videos(videos)
        out = {"val_reward": float(np.mean(rewards)), "prompts": count}
        for name in ("static", "motion"):
            out[f"val_{name}"] = float(np.mean([d[name] for d in detectors])) if detectors and name in detectors[0] \
                else float("nan")
        return out

    def _write_videos(self, videos: list[np.ndarray]) -> None:
        from eva_bench.video import write_mp4

        folder = Path(self.config.out) / "videos"
        step = self.last_step or 0
        for number, frames in enumerate(videos):
            write_mp4(folder / f"step{step:05d}_{number}.mp4", frames, fps=10)

    def export(self, model: VideoWorldModel, folder: Path, step: int) -> None:
        config = self.config
        provenance = make_provenance(data={"folder": config.data, "tasks": config.tasks,
                                           "train_episodes": len(self.split["train"])}, step=step,
                                     reward={"kind": config.reward, "idm": config.reward_idm})
        save_lora(model, folder, self.init, provenance)
        if step == config.steps or (config.snapshot_every and step % config.snapshot_every == 0):
            save_lora(model, snapshot_dir(config.out, step), self.init, provenance)

    def resume_key(self) -> dict:
        return {**self.split, "init": self.init.digest}


SNAPSHOTS_DIR = "snapshots"


def snapshot_dir(out: str | Path, step: int) -> Path:
    """The adapter snapshot of `step` in GRPO run folder `out` (GRPOConfig.snapshot_every)."""
    return Path(out) / SNAPSHOTS_DIR / f"step-{step:05d}"


def snapshots(out: str | Path) -> list[tuple[int, Path]]:
    """Every adapter snapshot of a GRPO run folder, (step, folder) by step."""
    found = [(int(p.name.split("-")[1]), p) for p in (Path(out) / SNAPSHOTS_DIR).glob("step-*")
             if p.name.split("-")[1].isdigit() and (p / "checkpoint.json").is_file()]
    return sorted(found)


@torch.no_grad()
def sample_rollouts(model: VideoWorldModel, pipeline: WorldModelPipeline, reward: SegmentReward, config: GRPOConfig,
                    groups: list[tuple[np.ndarray, str, np.ndarray | None, int]], cycle: int = 0) -> Rollouts:
    """`config.group_size` SDE rollouts (the adapter as it is) of each prompt (history frames, instruction, the
    expert's actions or None, seed), decoded, scored by `reward`, with their group advantages."""
    started = time.perf_counter()
    histories, texts, trajectories, videos = [], [], [], []
    for history, instruction, _, seed in groups:
        latent = pipeline.history_latents(history, config.history_latents).repeat(config.group_size, 1, 1, 1, 1)
        text = pipeline.encoder.encode([instruction] * config.group_size)
        trajectory = generate_with_logprob(model, latent, config.segment_latents, text, config.sample_steps,
                                           config.shift, config.noise_level, torch.Generator().manual_seed(seed))
        videos.append(to_uint8(pipeline.autoencoder.decode(trajectory.final)).transpose(0, 1, 3, 4, 2))
        histories.append(latent)
        texts.append(text)
        trajectories.append(trajectory)
    sampled = time.perf_counter()
    scores = [reward(history, video, expert) for (history, _, expert, _), video in zip(groups, videos, strict=True)]
    scored = time.perf_counter()
    rewards = np.stack([s.reward for s in scores])  # (prompts, G)
    centred = rewards - rewards.mean(axis=1, keepdims=True)
    std = rewards.std(axis=1, keepdims=True) if config.advantage_std == "group" else rewards.std()
    advantages = np.clip(centred / (std + 1e-4), -config.adv_clip, config.adv_clip)
    trajectory = Trajectory(torch.cat([t.latents for t in trajectories]),
                            torch.cat([t.log_probs for t in trajectories]), trajectories[0].sigmas)
    stats = {"reward_mean": float(rewards.mean()), "reward_std": float(rewards.std()),
             "zero_std_ratio": float((rewards.std(axis=1) < 1e-6).mean()),
             "sample_s": sampled - started, "reward_s": scored - sampled}
    for name in ("penalty", "jerk_huber", "acc_huber", "vel_limit", "acc_limit"):
        if name in scores[0].components:
            stats[name] = float(np.mean([s.components[name] for s in scores]))
    detectors = [s.detector_means() for s in scores]
    for name in detectors[0]:
        stats[name] = float(np.mean([d[name] for d in detectors]))
    return Rollouts(cycle, torch.cat(histories), torch.cat(texts), trajectory,
                    torch.from_numpy(advantages.reshape(-1)).float(), scores, stats)


def grpo_loss(model: torch.nn.Module, net: VideoWorldModel, rollouts: Rollouts,
              config: GRPOConfig) -> tuple[torch.Tensor, dict]:
    """Flow-GRPO's loss of stored rollouts under the current weights (module docstring), averaged over the
    trained timesteps, and its diagnostics (approx-KL, clip fraction, both terms). `model` is what the trainer
    prepared (maybe wrapped), `net` the model itself (its adapter is switched off for the reference)."""
    total = torch.zeros(())
    kls, clipped, policy_losses, kl_losses = [], [], [], []
    advantages, old = rollouts.advantages, rollouts.trajectory.log_probs
    for j in range(config.train_timesteps):
        log_prob, mean, std = transition_log_prob(model, rollouts.history, rollouts.trajectory, j, rollouts.text,
                                                  config.noise_level)
        ratio = torch.exp(log_prob - old[:, j])
        bounded = -advantages * torch.clamp(ratio, 1 - config.clip_range, 1 + config.clip_range)
        policy = torch.maximum(-advantages * ratio, bounded).mean()
        kl = torch.zeros(())
        if config.beta > 0:
            with torch.no_grad():
                net.net.disable_adapters()
                _, reference, _ = transition_log_prob(net, rollouts.history, rollouts.trajectory, j, rollouts.text,
                                                      config.noise_level)
                net.net.enable_adapters()
            kl = ((mean - reference) ** 2).mean(dim=tuple(range(1, mean.ndim))).mean() / (2 * std**2)
        total = total + (policy + config.beta * kl) / config.train_timesteps
        with torch.no_grad():
            kls.append(0.5 * float(((log_prob - old[:, j]) ** 2).mean()))
            clipped.append(float(((ratio - 1).abs() > config.clip_range).float().mean()))
            policy_losses.append(float(policy))
            kl_losses.append(float(kl))
    return total, {"approx_kl": float(np.mean(kls)), "clipfrac": float(np.mean(clipped)),
                   "policy_loss": float(np.mean(policy_losses)), "kl_loss": float(np.mean(kl_losses))}


def train_grpo(config: GRPOConfig, progress: bool = True, stop_after: int | None = None):
    """Align (or resume aligning) the world model as `config` says; returns the trainer's `FitResult`.

    Raises:
        UserError: No episodes or prompts, a missing or corrupt world model, autoencoder or reward IDM, or
            `config.out` holding a run with other settings.
    """
    return fit(GRPOTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
