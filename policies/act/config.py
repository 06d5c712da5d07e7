"""`ACTTrainConfig` and the presets of ACT training (`eva-bench train act` reads its defaults and help texts
here; free of torch, so the command line starts fast)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from eva_bench.policies.chunk_config import ChunkTrainConfig

from eva_bench.errors import UserError

# `ACT` constructor arguments a run may set (the tasks come from the data).
MODEL_KEYS = frozenset({"cameras", "width", "height", "chunk", "hidden", "ff", "heads", "enc_layers",
                        "dec_layers", "vae_layers", "latent_dim", "dropout", "backbone", "backbone_norm",
                        "stem_channels", "stages", "action_dim"})
# Model shapes and trainer settings per preset; the command line and `model` override them.
PRESETS = {
    # RoboTwin 2.0's ACT (policy/ACT): three 640x480 cameras, ResNet-18, d512 / ff3200 / 4 encoder layers.
    "robotwin": {"model": {"cameras": ["head_camera", "left_camera", "right_camera"], "width": 640, "height": 480,
                           "chunk": 50, "hidden": 512, "ff": 3200, "heads": 8, "enc_layers": 4, "dec_layers": 1,
                           "vae_layers": 4, "latent_dim": 32, "dropout": 0.1, "backbone": "resnet18"},
                 "lr": 1e-5, "weight_decay": 1e-4, "batch_size": 8, "steps": 30000, "kl_weight": 10.0},
    # 2 CPU cores: the head camera at 128x96, a micro CNN, d256 (4.6 M parameters, ~0.5 s per batch-8 step).
    "tiny": {"model": {"cameras": ["head_camera"], "width": 128, "height": 96, "chunk": 50, "hidden": 256,
                       "ff": 1024, "heads": 8, "enc_layers": 2, "dec_layers": 1, "vae_layers": 2, "latent_dim": 32,
                       "dropout": 0.1, "backbone": "micro"},
             "lr": 1e-4, "weight_decay": 1e-4, "batch_size": 8, "steps": 10000, "kl_weight": 10.0},
}


@dataclass(kw_only=True)
class ACTTrainConfig(ChunkTrainConfig):
    """One ACT training run: the trainer's settings, the shared ones of chunk policies and ACT's.

    Args:
        preset: "tiny" (2 CPU cores) or "robotwin" (RoboTwin 2.0's settings, for a GPU); it sets the model and
            the values of steps, batch_size, lr, kl_weight and weight_decay left at 0.
        model: `ACT` constructor arguments overriding the preset's (e.g. {"chunk": 20}).
        kl_weight: Weight of the KL term (RoboTwin: 10).
        backbone_lr_scale: The backbone's learning rate relative to `lr` (RoboTwin: 1).
        resnet_weights: A local torchvision ResNet-18 state dict (e.g. ImageNet) for the resnet18 backbone,
            which then uses frozen BatchNorm; never downloaded. Empty: GroupNorm, trained from scratch.
    """

    label: ClassVar[str] = "ACT"
    presets: ClassVar[dict] = PRESETS
    model_keys: ClassVar[frozenset] = MODEL_KEYS
    preset_fields: ClassVar[tuple[str, ...]] = ("steps", "batch_size", "lr", "kl_weight", "weight_decay")

    kl_weight: float | None = None
    backbone_lr_scale: float = 1.0
    resnet_weights: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resnet_weights:
            self.resnet_weights = str(Path(self.resnet_weights).resolve())
            if not Path(self.resnet_weights).is_file():
                raise UserError(f"--resnet-weights: no file {self.resnet_weights}")
        if self.kl_weight < 0 or self.backbone_lr_scale < 0:
            raise UserError("kl_weight and backbone_lr_scale must be >= 0")

    def model_kwargs(self, tasks: list[str]) -> dict:
        """ACT's constructor arguments: the shared ones, and the ResNet's normalization (frozen BatchNorm for
        given pretrained weights)."""
        kwargs = super().model_kwargs(tasks)
        if kwargs.get("backbone") == "resnet18":
            kwargs["backbone_norm"] = "frozen_bn" if self.resnet_weights else "group"
        return kwargs
