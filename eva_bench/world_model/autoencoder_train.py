"""Training and evaluation of the video autoencoder (`FrameAutoencoder`) on episode files.

`train_autoencoder(config)` runs on the shared trainer (`eva_bench.training`); `AutoencoderTraining` is the
autoencoder's `TrainTask`. Outputs in the run folder `config.out`, as for the IDM (docs/training.md): model/
(the checkpoint, kind "autoencoder"), run_config.json, state/, log.csv, metrics.json, and
`reconstructions.png` (held-out frames above their reconstructions) at the end.

Loss: squared error plus `l1_weight` x absolute error in [-1, 1] pixel units, of frames decoded from the
posterior mean plus noise (`latent_noise` x the batch's latent std). Held-out metrics: PSNR (dB) of the
reconstructions, and at the end the reward round trip that gates an autoencoder for the world model: the IDM
reward of reconstructed held-out videos beside that of the real videos (a blurry autoencoder decodes to
near-mean, smooth actions and so can score *higher* than real video, docs/performance.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from eva_bench.checkpoint import make_provenance
from eva_bench.data.batches import WindowBatches
from eva_bench.data.dataset import FrameWindows, training_split
from eva_bench.errors import UserError
from eva_bench.training import ConfiguredTask, fit
from eva_bench.world_model.autoencoder import FrameAutoencoder, to_uint8
from eva_bench.world_model.autoencoder_config import AutoencoderTrainConfig
from eva_bench.world_model.image_metrics import psnr

RECONSTRUCTIONS_PNG = "reconstructions.png"


def spread(count: int, samples: int) -> np.ndarray:
    """`samples` indices evenly spread over range(count) (all of them when there are fewer)."""
    if samples >= count:
        return np.arange(count)
    return np.linspace(0, count - 1, samples).round().astype(np.int64)


@torch.no_grad()
def reconstruction_psnr(model: FrameAutoencoder, data: WindowBatches, samples: int, batch_size: int = 8) -> dict:
    """PSNR (dB, over all pixels) and the training loss's squared error of `samples` held-out groups."""
    was_training = model.training
    model.eval()
    items = spread(len(data), samples)
    real, rebuilt = [], []
    for start in range(0, len(items), batch_size):
        frames, _ = data.batch(items[start:start + batch_size])
        real.append(frames.numpy())
        rebuilt.append(to_uint8(model.reconstruct(frames)))
    model.train(was_training)
    real, rebuilt = np.concatenate(real), np.concatenate(rebuilt)
    mse = float(np.mean(((real.astype(np.float64) - rebuilt) / 127.5) ** 2))
    return {"groups": int(len(items)), "psnr_db": psnr(rebuilt, real), "mse": mse}


def idm_consistency(idm, decoded: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the IDM's normalized actions on every window of decoded frames (B, T, 3, H, W)
    float in [0, 255] (differentiable) and of the real frames (uint8), resized to the IDM's input."""
    import torch.nn.functional as F  # noqa: N812

    k, (width, height) = idm.config["context"], (idm.config["width"], idm.config["height"])
    centres = range(k, decoded.shape[1] - k)

    def actions(frames: torch.Tensor) -> torch.Tensor:
        windows = torch.stack([frames[:, c - k:c + k + 1] for c in centres], dim=1)  # (B, W, 2k+1, 3, H, W)
        flat = windows.reshape(-1, 3, *frames.shape[-2:]).float()
        if tuple(flat.shape[-2:]) != (height, width):
            flat = F.interpolate(flat, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
        return idm(flat.reshape(-1, 2 * k + 1, 3, height, width))

    with torch.no_grad():
        target = actions(real)
    return ((actions(decoded) - target) ** 2).mean()


@torch.no_grad()
def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two samples (average ranks for ties); NaN for fewer than 3 values."""
    if len(a) < 3:
        return float("nan")

    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="stable")
        ranked = np.empty(len(x))
        ranked[order] = np.arange(len(x))
        for value in np.unique(x):  # ties share their mean rank
            ranked[x == value] = ranked[x == value].mean()
        return ranked

    return float(np.corrcoef(ranks(np.asarray(a)), ranks(np.asarray(b)))[0, 1])


def reward_round_trip(model: FrameAutoencoder, episodes: list[Path], camera: str, reward_idm: str,
                      segment_frames: int = 16) -> dict:
    """The IDM reward of each held-out video and of its reconstruction (see the module docstring), and of
    their `segment_frames`-frame segments: what GRPO needs is that the reconstruction keeps the *ranking* of
    segments by reward (`segment_rank_correlation`), even where the level drops."""
    from eva_bench.data.episode import read_episode
    from eva_bench.idm.reward import executability
    from eva_bench.idm.scoring import RewardScorer

    scorer = RewardScorer.load(reward_idm)
    real, rebuilt, real_segments, rebuilt_segments = [], [], [], []
    for path in episodes:
        video = read_episode(path, [camera]).cameras[camera].frames()
        decoded = [scorer.decode(video), scorer.decode(model.round_trip(video))]
        real.append(executability(decoded[0], scorer.config).reward)
        rebuilt.append(executability(decoded[1], scorer.config).reward)
        for start in range(0, len(video) - segment_frames, segment_frames):
            window = slice(start, start + segment_frames + 1)
            real_segments.append(executability(decoded[0][window], scorer.config).reward)
            rebuilt_segments.append(executability(decoded[1][window], scorer.config).reward)
    real, rebuilt = np.array(real), np.array(rebuilt)
    return {"reward_idm": str(reward_idm), "episodes": len(episodes), "reward_real": float(real.mean()),
            "reward_reconstructed": float(rebuilt.mean()), "reward_abs_diff": float(np.abs(real - rebuilt).mean()),
            "segments": len(real_segments),
            "segment_rank_correlation": rank_correlation(np.array(real_segments), np.array(rebuilt_segments))}


def save_reconstructions(model: FrameAutoencoder, data: WindowBatches, path: Path, columns: int = 6) -> Path:
    """A PNG: `columns` held-out frames (first frame of evenly spread groups) above their reconstructions."""
    from PIL import Image

    frames, _ = data.batch(spread(len(data), columns))
    with torch.no_grad():
        rebuilt = to_uint8(model.eval().reconstruct(frames))
    model.train()
    top = np.concatenate([f[0].transpose(1, 2, 0) for f in frames.numpy()], axis=1)
    bottom = np.concatenate([f[0].transpose(1, 2, 0) for f in rebuilt], axis=1)
    Image.fromarray(np.concatenate([top, bottom], axis=0)).save(path)
    return path


class AutoencoderTraining(ConfiguredTask):
    """The autoencoder's part of a training run (`eva_bench.training.TrainTask`).

    Args:
        config: The run.
    """

    kind = "autoencoder"
    resumable = ("eval_samples", "cache_mb", "reward_idm", "reward_episodes")
    idm = None  # the consistency loss's frozen IDM (`AutoencoderTrainConfig.idm_weight`)
    eval_columns = {"val_mse": ".5f", "val_psnr_db": ".2f"}

    def setup(self) -> None:
        config = self.config
        train_paths, val_paths = training_split(config.data, config.tasks, config.holdout, config.split_seed)
        self.split = {"train": [str(p) for p in train_paths], "val": [str(p) for p in val_paths]}
        group = int(config.model.get("group", 4))
        window = group * config.window_groups
        self.train_data = WindowBatches(FrameWindows(train_paths, config.camera, 0, window - 1), config.cache_mb)
        self.val_data = WindowBatches(FrameWindows(val_paths, config.camera, 0, group - 1), config.cache_mb) \
            if val_paths else None
        self.val_paths = val_paths
        self._load_idm()
        self.width, self.height = self.train_data.windows.frame_size(0)
        self.data_info = {
            "folder": config.data, "tasks": sorted(set(self.train_data.windows.tasks)), "camera": config.camera,
            "train_episodes": len(train_paths), "held_out_episodes": len(val_paths),
            "resolution": [self.width, self.height],
        }

    @property
    def num_samples(self) -> int:
        return len(self.train_data)

    def build_model(self) -> FrameAutoencoder:
        try:
            return FrameAutoencoder(width=self.width, height=self.height, **self.config.model)
        except (TypeError, ValueError) as error:
            raise UserError(f"autoencoder settings: {error}") from None

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=self.config.weight_decay)

    def _load_idm(self) -> None:
        """The frozen IDM of the consistency loss (on the training device), when the loss is on."""
        self.idm = None
        if self.config.idm_weight:
            from eva_bench.idm.model import load_idm
            from eva_bench.paths import released_idm_dir

            self.idm = load_idm(self.config.idm or released_idm_dir()).eval().requires_grad_(False)
            if self.accelerator is not None:
                self.idm.to(self.accelerator.device)

    def start(self, model: FrameAutoencoder) -> None:
        if self.config.init:
            from eva_bench.checkpoint import CheckpointError, read_checkpoint

            try:
                model.load_checkpoint_weights(read_checkpoint(self.config.init, FrameAutoencoder.kind))
            except CheckpointError as error:
                raise UserError(f"--init: {error}") from None

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> dict:
        frames, _ = self.train_data.batch(indices)
        # The latent noise of step s is drawn for the whole global batch and this part's rows taken (in `loss`,
        # which knows the latent shape), as the IDM draws its shifts: independent of processes / micro-batches.
        seed = torch.tensor(self.config.seed * 1_000_003 + step)
        return {"frames": frames, "noise_seed": seed, "positions": torch.from_numpy(positions)}

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        own: FrameAutoencoder = self.unwrap(model)
        frames = batch["frames"]
        generator = torch.Generator().manual_seed(int(batch["noise_seed"]))
        shape = own.latent_shape(frames.shape[1])
        noise = torch.randn((self.config.batch_size, *shape), generator=generator)[batch["positions"].cpu()]
        raw = own.encode_raw(frames)
        noisy = raw + own.config["latent_noise"] * raw.detach().std() * noise.reshape(raw.shape).to(raw.device)
        decoded, real = own.decode_raw(noisy, len(frames)), frames.float() / 127.5 - 1.0
        error = decoded - real
        loss = (error**2).mean() + self.config.l1_weight * error.abs().mean()
        if self.config.temporal_weight:  # motion, seams between groups included
            motion = (decoded[:, 1:] - decoded[:, :-1]) - (real[:, 1:] - real[:, :-1])
            loss = loss + self.config.temporal_weight * motion.abs().mean()
        if self.config.idm_weight:
            loss = loss + self.config.idm_weight * idm_consistency(self.idm, (decoded + 1.0) * 127.5, frames)
        return loss

    def evaluate(self, model: FrameAutoencoder, final: bool) -> dict | None:
        if self.val_data is None:
            return None
        if not final:
            metrics = reconstruction_psnr(model, self.val_data, self.config.eval_samples)
            return {"val_mse": metrics["mse"], "val_psnr_db": metrics["psnr_db"]}
        self._set_stats(model)
        metrics = reconstruction_psnr(model, self.val_data, 4 * self.config.eval_samples)
        reward_idm = self._reward_idm()
        if reward_idm and self.config.reward_episodes:
            episodes = [self.val_paths[i] for i in spread(len(self.val_paths), self.config.reward_episodes)]
            metrics.update(reward_round_trip(model, episodes, self.config.camera, reward_idm))
        save_reconstructions(model, self.val_data, Path(self.config.out) / RECONSTRUCTIONS_PNG)
        return metrics

    def export(self, model: FrameAutoencoder, folder: Path, step: int) -> None:
        self._set_stats(model)
        model.save(folder, provenance=make_provenance(data=self.data_info, step=step))

    def resume_key(self) -> dict:
        return self.split

    def _set_stats(self, model: FrameAutoencoder) -> None:
        """Normalization statistics of the latents of `stats_groups` training groups (evenly spread)."""
        items = spread(len(self.train_data), self.config.stats_groups)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            raw = [model.encode_raw(self.train_data.batch(items[i:i + 16])[0]) for i in range(0, len(items), 16)]
        model.train(was_training)
        model.set_latent_stats(torch.cat(raw))

    def _reward_idm(self) -> str:
        """The reward round trip's IDM folder ("" when off)."""
        from eva_bench.idm.scoring import resolve_reward_idm

        return resolve_reward_idm(self.config.reward_idm)


def train_autoencoder(config: AutoencoderTrainConfig, progress: bool = True, stop_after: int | None = None):
    """Train (or resume training) a video autoencoder as `config` says; returns the trainer's `FitResult`.

    Raises:
        UserError: No episodes, bad model settings, or `config.out` holds a run with another config.
    """
    return fit(AutoencoderTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
