"""`DPTrainConfig` and the presets of Diffusion Policy training (`eva-bench train dp` reads its defaults and help
texts here; free of torch, so the command line starts fast)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from eva_bench.policies.chunk_config import ChunkTrainConfig

from eva_bench.errors import UserError

# `DiffusionPolicy` constructor arguments a run may set (the tasks come from the data).
MODEL_KEYS = frozenset({"camera", "width", "height", "n_obs", "horizon", "n_action", "encoder", "stem_channels",
                        "stages", "keypoints", "down_dims", "kernel", "groups", "step_dim", "train_steps",
                        "inference_steps", "sampler", "action_dim"})
PRESETS = {
    # RoboTwin 2.0's DP (policy/DP, robot_dp_14.yaml): the head camera at 320x240 + state, 3 observation steps,
    # horizon 8 of which 6 executed, UNet 256-512-1024, DDPM 100 steps, batch 128, AdamW 1e-4 (96.8 M params).
    "robotwin": {"model": {"camera": "head_camera", "width": 320, "height": 240, "n_obs": 3, "horizon": 8,
                           "n_action": 6, "encoder": "resnet18", "down_dims": [256, 512, 1024], "kernel": 5,
                           "groups": 8, "step_dim": 128, "train_steps": 100, "inference_steps": 100,
                           "sampler": "ddpm"},
                 "lr": 1e-4, "weight_decay": 1e-6, "batch_size": 128, "steps": 31000, "warmup": 500},
    # 2 CPU cores: the head camera at 128x96, the micro CNN with 32 keypoints, 2 observation steps, UNet
    # 64-128-256, 10 DDIM steps at inference (5.1 M parameters). lr 1e-3, because batch 8 learns slowly at
    # RoboTwin's 1e-4 (made for batch 128): on click_bell after 2000 of 3000 steps, held-out chunk MAE 0.064 rad
    # at 1e-3 vs 0.185 at 1e-4 (runs dp-probe/click_bell*, docs/baselines.md).
    "tiny": {"model": {"camera": "head_camera", "width": 128, "height": 96, "n_obs": 2, "horizon": 8,
                       "n_action": 6, "encoder": "micro", "stem_channels": 24, "stages": [[32, 1, 2], [64, 1, 2]],
                       "keypoints": 32, "down_dims": [64, 128, 256], "kernel": 5, "groups": 8, "step_dim": 128,
                       "train_steps": 100, "inference_steps": 10, "sampler": "ddim"},
             "lr": 1e-3, "weight_decay": 1e-6, "batch_size": 8, "steps": 10000, "warmup": 500},
}


@dataclass(kw_only=True)
class DPTrainConfig(ChunkTrainConfig):
    """One Diffusion Policy training run: the trainer's settings, the shared ones of chunk policies and DP's.

    Args:
        preset: "tiny" (2 CPU cores) or "robotwin" (RoboTwin 2.0's settings, for a GPU); it sets the model and
            the values of steps, batch_size, lr, weight_decay and warmup left at 0.
        model: `DiffusionPolicy` constructor arguments overriding the preset's (e.g. {"inference_steps": 16}).
        betas: AdamW's betas (RoboTwin: 0.95, 0.999).
        ema: Keep an exponential moving average of the weights and export it (RoboTwin: yes).
        ema_power: The EMA decay warms up as 1 - (1 + step) ** -power (RoboTwin: 0.75) ...
        ema_max: ... up to this decay (0.9999).
    """

    label: ClassVar[str] = "DP"
    presets: ClassVar[dict] = PRESETS
    model_keys: ClassVar[frozenset] = MODEL_KEYS
    preset_fields: ClassVar[tuple[str, ...]] = ("steps", "batch_size", "lr", "weight_decay", "warmup")

    warmup: int = 0
    holdout: float = 0.1
    max_grad_norm: float = 0.0  # RoboTwin's DP does not clip
    betas: tuple[float, float] = (0.95, 0.999)
    ema: bool = True
    ema_power: float = 0.75
    ema_max: float = 0.9999

    def __post_init__(self) -> None:
        super().__post_init__()
        self.betas = tuple(float(b) for b in self.betas)
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise UserError(f"betas must be two numbers in [0, 1), got {self.betas}")
        if self.ema_power <= 0 or not 0 <= self.ema_max < 1:
            raise UserError("ema_power must be > 0 and ema_max in [0, 1)")
