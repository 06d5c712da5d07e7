"""Diffusion Policy (Chi et al., 2023), the CNN variant RoboTwin 2.0 trains as a baseline ("DP").

Observation: the last `n_obs` frames of one camera and the `n_obs` joint states. Each frame goes through the
image encoder (RoboTwin's: a ResNet-18 from scratch with GroupNorm, average-pooled to 512 features; `tiny`: the
micro CNN of `eva_bench.vision` with a spatial-softmax head); the features of all steps, with the states, form
one condition vector. The action chunk (`horizon` rows, state row t -> action row t + 1, the chunk starting at
the oldest observation) is denoised by a conditional 1-D UNet (policies/dp/unet.py) trained to predict the
noise (epsilon) that DDPM added at a random step (squaredcos_cap_v2 schedule, `train_steps` steps). States and
actions are min-max scaled to [-1, 1] by statistics of the training set, kept as buffers (saved with the
weights). At inference the chunk is sampled from Gaussian noise by DDPM (RoboTwin: 100 steps) or DDIM (fewer
steps); rows n_obs - 1 .. n_obs - 2 + n_action are the ones executed.

The schedulers are diffusers' (`DDPMScheduler`, `DDIMScheduler`); sampling takes a torch.Generator, so a policy
seeds its noise from the episode seed.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from eva_bench.policies.dp.unet import ConditionalUnet1D
from eva_bench.policies.per_task import task_index
from torch import nn

from eva_bench.saved_model import SavedModel
from eva_bench.sim.embodiment import ACTION_DIM
from eva_bench.vision import IMAGENET_MEAN, IMAGENET_STD, ResNet18, SpatialSoftmax, conv_backbone

KIND = "dp"
ENCODERS = ("micro", "resnet18")
SAMPLERS = ("ddpm", "ddim")
MIN_RANGE = 1e-2


class DiffusionPolicy(SavedModel):
    """Frames (B, n_obs, 3, H, W) uint8 + states (B, n_obs, 14) -> a sampled chunk (B, horizon, 14).

    Args:
        camera: The camera the model sees (RoboTwin: head_camera).
        width, height: Input frame size (RoboTwin: 320x240, frames of another size are resized).
        n_obs: Observation steps (3).
        horizon: Rows of a denoised chunk (8).
        n_action: Rows executed per query (6).
        encoder: "resnet18" (RoboTwin's, GroupNorm, average pooling) or "micro" (spatial softmax).
        stem_channels, stages, keypoints: The micro encoder's shape (`eva_bench.vision.conv_backbone`) and its
            spatial-softmax keypoints.
        down_dims, kernel, groups, step_dim: The UNet's shape (policies/dp/unet.py).
        train_steps: DDPM steps of the noise schedule (100).
        inference_steps: Default denoising steps at inference (RoboTwin: 100, DDPM).
        sampler: Default sampler at inference, "ddpm" or "ddim".
        tasks: Task names of a task-conditioned (multi-task) model, each a learned embedding; () for one task.
        action_dim: Size of a state and of an action (14).
    """

    kind = KIND

    def __init__(
        self,
        camera: str = "head_camera",
        width: int = 128,
        height: int = 96,
        n_obs: int = 2,
        horizon: int = 8,
        n_action: int = 6,
        encoder: str = "micro",
        stem_channels: int = 24,
        stages: tuple | list = ((32, 1, 2), (64, 1, 2)),
        keypoints: int = 32,
        down_dims: tuple | list = (64, 128, 256),
        kernel: int = 5,
        groups: int = 8,
        step_dim: int = 128,
        train_steps: int = 100,
        inference_steps: int = 10,
        sampler: str = "ddim",
        tasks: tuple[str, ...] | list = (),
        action_dim: int = ACTION_DIM,
    ) -> None:
        super().__init__()
        if encoder not in ENCODERS or sampler not in SAMPLERS:
            raise ValueError(f"encoder must be one of {ENCODERS} and sampler one of {SAMPLERS}")
        if n_obs < 1 or n_action < 1 or n_obs - 1 + n_action > horizon or horizon % 2 ** (len(down_dims) - 1):
            raise ValueError(f"need n_obs >= 1, n_action >= 1, n_obs - 1 + n_action <= horizon and a horizon "
                             f"divisible by {2 ** (len(down_dims) - 1)}")
        if not 1 <= inference_steps <= train_steps or width < 16 or height < 16:
            raise ValueError("need 1 <= inference_steps <= train_steps and frames of >= 16x16")
        stages = [list(map(int, s)) for s in stages]
        self.config = {"camera": camera, "width": width, "height": height, "n_obs": n_obs, "horizon": horizon,
                       "n_action": n_action, "encoder": encoder, "stem_channels": stem_channels, "stages": stages,
                       "keypoints": keypoints, "down_dims": list(down_dims), "kernel": kernel, "groups": groups,
                       "step_dim": step_dim, "train_steps": train_steps, "inference_steps": inference_steps,
                       "sampler": sampler, "tasks": list(tasks), "action_dim": action_dim}
        if encoder == "resnet18":
            self.encoder = nn.Sequential(ResNet18("group"), nn.AdaptiveAvgPool2d(1), nn.Flatten())
            features = ResNet18.out_channels
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        else:
            backbone, channels = conv_backbone(3, stem_channels, stages)
            self.encoder = nn.Sequential(backbone, SpatialSoftmax(channels, keypoints), nn.Flatten())
            features, mean, std = 2 * keypoints, (0.5,) * 3, (0.5,) * 3
        self.register_buffer("pixel_mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("pixel_std", torch.tensor(std).view(1, 3, 1, 1))
        self.task_embed = nn.Embedding(len(tasks), 32) if len(tasks) > 1 else None
        cond_dim = n_obs * (features + action_dim) + (32 if self.task_embed is not None else 0)
        self.unet = ConditionalUnet1D(action_dim, cond_dim, down_dims, kernel, groups, step_dim)
        for name in ("state", "action"):  # min-max scaling to [-1, 1]
            self.register_buffer(f"{name}_low", -torch.ones(action_dim))
            self.register_buffer(f"{name}_high", torch.ones(action_dim))
        from diffusers import DDPMScheduler

        # Chi et al.'s / RoboTwin's schedule: squared-cosine betas, fixed small variance, clipped x0, epsilon.
        self.scheduler = DDPMScheduler(num_train_timesteps=train_steps, beta_schedule="squaredcos_cap_v2",
                                       variance_type="fixed_small", clip_sample=True, prediction_type="epsilon")

    # ------------------------------------------------------------------ statistics
    def set_stats(self, states: np.ndarray, actions: np.ndarray) -> None:
        """Min-max statistics of the training states and actions (N, 14); ranges floored at 0.01 about the
        middle, so a constant joint maps to 0 instead of dividing by zero."""
        for name, values in (("state", states), ("action", actions)):
            values = np.asarray(values, np.float64)
            low, high = values.min(0), values.max(0)
            middle, half = (low + high) / 2, np.maximum((high - low) / 2, MIN_RANGE / 2)
            getattr(self, f"{name}_low").copy_(torch.as_tensor(middle - half, dtype=torch.float32))
            getattr(self, f"{name}_high").copy_(torch.as_tensor(middle + half, dtype=torch.float32))

    def _scale(self, x: torch.Tensor, name: str) -> torch.Tensor:
        low, high = getattr(self, f"{name}_low"), getattr(self, f"{name}_high")
        return 2 * (x - low) / (high - low) - 1

    def _unscale(self, x: torch.Tensor, name: str) -> torch.Tensor:
        low, high = getattr(self, f"{name}_low"), getattr(self, f"{name}_high")
        return (x + 1) / 2 * (high - low) + low

    def task_index(self, task: str) -> int:
        """The task token of `task` (0 for a single-task model, which conditions on no task)."""
        return task_index(self.config["tasks"], task, "DP")

    # ------------------------------------------------------------------ conditioning
    def condition(self, frames: torch.Tensor, states: torch.Tensor, task: torch.Tensor | None = None) -> torch.Tensor:
        """The UNet's condition (B, cond_dim) from frames (B, n_obs, 3, H, W) uint8 and states (B, n_obs, 14)."""
        b, n, _, h, w = frames.shape
        x = frames.reshape(b * n, 3, h, w).float() / 255.0
        if (w, h) != (self.config["width"], self.config["height"]):
            x = F.interpolate(x, size=(self.config["height"], self.config["width"]), mode="bilinear",
                              align_corners=False, antialias=True)
        features = self.encoder((x - self.pixel_mean) / self.pixel_std).reshape(b, n, -1)
        parts = [features.flatten(1), self._scale(states, "state").flatten(1)]
        if self.task_embed is not None:
            parts.append(self.task_embed(task if task is not None else torch.zeros(b, dtype=torch.long,
                                                                                     device=frames.device)))
        return torch.cat(parts, dim=-1)

    def loss(self, frames: torch.Tensor, states: torch.Tensor, actions: torch.Tensor,
             task: torch.Tensor | None = None, generator: torch.Generator | None = None,
             reduce: bool = True) -> torch.Tensor:
        """DDPM's epsilon loss (MSE) of a batch: actions (B, horizon, 14) in joint units; the noise and the
        steps from `generator` (default: torch's global one); per sample (B,) unless `reduce`."""
        clean = self._scale(actions, "action")
        noise = torch.randn(clean.shape, generator=generator).to(clean.device)
        steps = torch.randint(0, self.config["train_steps"], (len(clean),), generator=generator).to(clean.device)
        noisy = self.scheduler.add_noise(clean, noise, steps)
        error = (self.unet(noisy, steps, self.condition(frames, states, task)) - noise).pow(2).mean(dim=(1, 2))
        return error.mean() if reduce else error

    @torch.no_grad()
    def sample(self, frames: torch.Tensor, states: torch.Tensor, task: torch.Tensor | None = None,
               generator: torch.Generator | None = None, sampler: str = "", steps: int = 0) -> torch.Tensor:
        """Denoised chunks (B, horizon, 14) in joint units; `sampler` / `steps` default to the model's."""
        sampler, steps = sampler or self.config["sampler"], steps or self.config["inference_steps"]
        if sampler not in SAMPLERS or not 1 <= steps <= self.config["train_steps"]:
            raise ValueError(f"sampler must be one of {SAMPLERS} with 1..{self.config['train_steps']} steps")
        from diffusers import DDIMScheduler, DDPMScheduler

        # a fresh scheduler per call: set_timesteps keeps state, and one model may serve several episodes
        scheduler = (DDIMScheduler if sampler == "ddim" else DDPMScheduler).from_config(self.scheduler.config)
        scheduler.set_timesteps(steps)
        cond = self.condition(frames, states, task)
        shape = (len(frames), self.config["horizon"], self.config["action_dim"])
        x = torch.randn(shape, generator=generator, device="cpu").to(frames.device)
        for t in scheduler.timesteps:
            epsilon = self.unet(x, t.expand(len(x)).to(x.device), cond)
            x = scheduler.step(epsilon, t, x, generator=generator).prev_sample
        return self._unscale(x, "action")

    def executed(self, chunk: np.ndarray) -> np.ndarray:
        """The rows of a sampled chunk that are executed: n_obs - 1 .. n_obs - 2 + n_action."""
        start = self.config["n_obs"] - 1
        return chunk[start:start + self.config["n_action"]]

    def predict(self, frames: np.ndarray, states: np.ndarray, task: str = "", seed: int = 0,
                sampler: str = "", steps: int = 0) -> np.ndarray:
        """The executed actions (n_action, 14) for one observation history: frames (n_obs, H, W, 3) uint8,
        states (n_obs, 14), oldest first; the noise is drawn from `seed`."""
        was_training = self.training
        self.eval()
        device = self.state_low.device
        frames_t = torch.from_numpy(np.ascontiguousarray(np.asarray(frames).transpose(0, 3, 1, 2)))[None].to(device)
        states_t = torch.as_tensor(np.asarray(states, np.float32), device=device)[None]
        task_t = torch.tensor([self.task_index(task)], device=device)
        generator = torch.Generator().manual_seed(int(seed))
        chunk = self.sample(frames_t, states_t, task_t, generator, sampler, steps)[0]
        self.train(was_training)
        return self.executed(chunk.cpu().numpy().astype(np.float32))
