"""Supervised fine-tuning (SFT) of the video world model on demonstrations (paper sections 3.1, 5.1).

`train_world_model(config)` runs on the shared trainer; `WorldModelTraining` is the world model's `TrainTask`.
Run folder as for the IDM (docs/training.md): model/ (kind "world_model"; its provenance names the autoencoder
and its digest), run_config.json, state/, log.csv, metrics.json, latents/ (the pre-encoded demos, unless
`latent_cache` is given).

A step: clips of h + segment latents from the training episodes (h drawn per step from 1 .. history_latents:
random history conditioning), a seen instruction drawn per clip, the history clean and the segment noised at
one level per clip (diffusion forcing, `eva_bench.world_model.flow`), the squared error of the predicted
velocity on the segment. Held-out evaluations: the same loss on fixed clips and noise, and generated segments
(one history latent = 4 real frames, `sample_steps` Euler steps, decoded by the autoencoder) scored by PSNR
and SSIM against the real frames and by the IDM reward of history + generated frames (the real segment's reward
beside it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from eva_bench.checkpoint import make_provenance, read_checkpoint
from eva_bench.data.dataset import training_split
from eva_bench.data.episode import EpisodeFile
from eva_bench.errors import UserError
from eva_bench.training import ConfiguredTask, fit
from eva_bench.world_model.autoencoder import FrameAutoencoder
from eva_bench.world_model.flow import training_example
from eva_bench.world_model.image_metrics import psnr, ssim
from eva_bench.world_model.latents import LatentEpisodes
from eva_bench.world_model.model import VideoWorldModel
from eva_bench.world_model.pipeline import WorldModelPipeline
from eva_bench.world_model.text import TEXT_DIM, InstructionEncoder
from eva_bench.world_model.train_config import WorldModelTrainConfig

LATENTS_DIR = "latents"


def _spread(count: int, samples: int) -> np.ndarray:
    return np.arange(count) if samples >= count else np.linspace(0, count - 1, samples).round().astype(np.int64)


class WorldModelTraining(ConfiguredTask):
    """The world model's part of a training run (`eva_bench.training.TrainTask`).

    Args:
        config: The run.
    """

    kind = "world_model"
    resumable = ("eval_clips", "eval_segments", "sample_steps", "reward_idm", "latent_cache")
    eval_columns = {"val_loss": ".5f", "val_psnr_db": ".2f", "val_reward": ".4f"}

    # ------------------------------------------------------------------ data
    def setup(self) -> None:
        config = self.config
        train_paths, val_paths = training_split(config.data, config.tasks, config.holdout, config.split_seed)
        self.split = {"train": [str(p) for p in train_paths], "val": [str(p) for p in val_paths]}
        self.autoencoder_checkpoint = read_checkpoint(config.autoencoder, "autoencoder")
        self.autoencoder = FrameAutoencoder.load(self.autoencoder_checkpoint.folder).eval()
        cache = Path(config.latent_cache) if config.latent_cache else Path(config.out) / LATENTS_DIR
        with tqdm(total=len(train_paths) + len(val_paths), desc="encoding latents", unit="ep", disable=None) as bar:
            def step(done, total):
                bar.update(1)

            self.train_data = LatentEpisodes(train_paths, config.autoencoder, config.camera, cache, step)
            self.val_data = LatentEpisodes(val_paths, config.autoencoder, config.camera, cache, step) \
                if val_paths else None
        self.index = self.train_data.clips(config.clip_latents)
        self.encoder = InstructionEncoder()
        texts = sorted({t for group in self.train_data.instructions for t in group})
        self.encoder.encode(texts)  # every training instruction embedded once, up front
        self.data_info = {
            "folder": config.data, "tasks": sorted({p.parent.parent.name for p in train_paths}),
            "camera": config.camera, "train_episodes": len(train_paths), "held_out_episodes": len(val_paths),
            "resolution": [self.autoencoder.config["width"], self.autoencoder.config["height"]],
        }

    @property
    def num_samples(self) -> int:
        return len(self.index)

    # ------------------------------------------------------------------ model
    def build_model(self) -> VideoWorldModel:
        try:
            model = VideoWorldModel.from_preset(self.config.preset, latent_channels=self.autoencoder.config[
                "latent_channels"], **self.config.model)
        except (TypeError, ValueError) as error:
            raise UserError(f"world-model settings: {error}") from None
        if model.config["text_dim"] != TEXT_DIM:
            raise UserError(f"preset {self.config.preset!r} reads {model.config['text_dim']}-wide text embeddings "
                            f"(Wan's umT5-XXL) but the instruction encoder gives {TEXT_DIM}: set the model's "
                            f"text_dim to {TEXT_DIM}")
        return model

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, self.config.beta2),
                                 weight_decay=self.config.weight_decay)

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> dict:
        config = self.config
        # Everything random in step s is drawn for the whole global batch from (seed, s) and this part's rows
        # taken, so a step does not depend on how it is split over processes and micro-batches.
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
        history = int(torch.randint(1, config.history_latents + 1, (1,), generator=g))
        length = history + config.segment_latents
        clips = np.stack([self.train_data.clip(*self.index[i], length) for i in indices])
        picks = torch.rand(config.batch_size, generator=g)[torch.from_numpy(positions)]
        texts = [self.train_data.instructions[self.index[i][0]] for i in indices]
        chosen = [group[min(int(p * len(group)), len(group) - 1)] for group, p in zip(texts, picks, strict=True)]
        noise = torch.randn((config.batch_size, *clips.shape[1:]), generator=g)[torch.from_numpy(positions)]
        u = torch.rand(config.batch_size, generator=g)[torch.from_numpy(positions)]
        return {"latents": torch.from_numpy(clips), "text": self.encoder.encode(chosen), "noise": noise, "u": u,
                "history": torch.tensor(history)}

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        history = int(batch["history"])
        noisy, sigmas, target = training_example(batch["latents"], history, batch["noise"], batch["u"],
                                                 self.config.shift)
        return ((model(noisy, sigmas, batch["text"])[:, history:] - target) ** 2).mean()

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def held_out_loss(self, model: VideoWorldModel) -> float:
        """The training loss on fixed held-out clips (history 1, noise and levels from seed 0)."""
        config = self.config
        length = 1 + config.segment_latents
        index = self.val_data.clips(length)
        g = torch.Generator().manual_seed(0)
        losses = []
        for start in range(0, min(len(index), config.eval_clips), 8):
            rows = index[_spread(len(index), config.eval_clips)][start:start + 8]
            clips = torch.from_numpy(np.stack([self.val_data.clip(e, s, length) for e, s in rows]))
            text = self.encoder.encode([self.val_data.instructions[e][0] for e, _ in rows])
            noisy, sigmas, target = training_example(clips, 1, torch.randn(clips.shape, generator=g),
                                                     torch.rand(len(clips), generator=g), config.shift)
            losses.append(float(((model(noisy, sigmas, text)[:, 1:] - target) ** 2).mean()) * len(clips))
        return float(np.sum(losses) / min(len(index), config.eval_clips))

    @torch.no_grad()
    def generated_segments(self, model: VideoWorldModel, count: int) -> dict:
        """PSNR and IDM reward of `count` generated held-out segments (see the module docstring)."""
        config = self.config
        group = self.autoencoder.group
        length = 1 + config.segment_latents
        index = self.val_data.clips(length)
        scorer = self._scorer()
        psnrs, ssims, rewards, real_rewards = [], [], [], []
        pipeline = WorldModelPipeline(model, self.autoencoder, self.encoder)
        for number, (episode, start) in enumerate(index[_spread(len(index), count)]):
            real = self._real_frames(episode, start * group, length * group)
            imagined = pipeline.imagine(real[:group], self.val_data.instructions[episode][0], seed=number,
                                        segment_latents=config.segment_latents, history_latents=1,
                                        steps=config.sample_steps, shift=config.shift)
            frames = np.concatenate([real[:group], imagined])
            psnrs.append(psnr(imagined, real[group:]))
            ssims.append(ssim(imagined, real[group:]))
            if scorer is not None:
                rewards.append(scorer.score(frames).reward)
                real_rewards.append(scorer.score(real).reward)
        out = {"segments": len(psnrs), "psnr_db": float(np.mean(psnrs)) if psnrs else float("nan"),
               "ssim": float(np.mean(ssims)) if ssims else float("nan")}
        if rewards:
            out.update(reward=float(np.mean(rewards)), reward_real=float(np.mean(real_rewards)))
        return out

    def _real_frames(self, episode: int, start: int, count: int) -> np.ndarray:
        """Frames (count, H, W, 3) uint8 of a held-out episode from frame `start` (the last one repeats)."""
        file = EpisodeFile(self.val_data.paths[episode])
        rows = [min(r, len(file) - 1) for r in range(start, start + count)]
        return file.frames(self.config.camera, rows)

    def _scorer(self):
        """The reward IDM's scorer (None when the reward is off), loaded once."""
        if not hasattr(self, "_reward_scorer"):
            from eva_bench.idm.scoring import RewardScorer, resolve_reward_idm

            folder = resolve_reward_idm(self.config.reward_idm)
            self._reward_scorer = RewardScorer.load(folder) if folder else None
        return self._reward_scorer

    def evaluate(self, model: VideoWorldModel, final: bool) -> dict | None:
        if self.val_data is None:
            return None
        was_training = model.training
        model.eval()
        loss = self.held_out_loss(model)
        segments = self.generated_segments(model, self.config.eval_segments * (4 if final else 1))
        model.train(was_training)
        if final:
            return {"loss": loss, **segments}
        return {"val_loss": loss, "val_psnr_db": segments["psnr_db"], "val_reward": segments.get("reward", np.nan)}

    def export(self, model: VideoWorldModel, folder: Path, step: int) -> None:
        autoencoder = {"path": str(self.autoencoder_checkpoint.folder), "digest": self.autoencoder_checkpoint.digest}
        sampling = {"shift": self.config.shift, "history_latents": 1, "segment_latents": self.config.segment_latents}
        model.save(folder, provenance=make_provenance(data=self.data_info, step=step, autoencoder=autoencoder,
                                                      text_encoder=str(self.encoder.path), sampling=sampling))

    def resume_key(self) -> dict:
        return {**self.split, "autoencoder": self.autoencoder_checkpoint.digest}


def train_world_model(config: WorldModelTrainConfig, progress: bool = True, stop_after: int | None = None):
    """Train (or resume training) the world model as `config` says; returns the trainer's `FitResult`.

    Raises:
        UserError: No episodes, a missing or corrupt autoencoder, bad settings, or `config.out` holding a run
            with another config.
    """
    return fit(WorldModelTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
