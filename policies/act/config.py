"""`ACTTrainConfig` and the presets of ACT training (`eva-bench train act` reads its defaults and help texts
here; free of torch, so the command line starts fast)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.training.config import TrainerConfig

# `ACT` constructor arguments a run may set (the tasks come from the data).
MODEL_KEYS = {"cameras", "width", "height", "chunk", "hidden", "ff", "heads", "enc_layers", "dec_layers",
              "vae_layers", "latent_dim", "dropout", "backbone", "backbone_norm", "stem_channels", "stages",
              "action_dim"}
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
class ACTTrainConfig(TrainerConfig):
    """One ACT training run: the trainer's settings and ACT's.

    Args:
        data: Folder of episode files (ours or RoboTwin 2.0's), searched recursively.
        out: Run folder (the model lands in out/model; an existing run there is resumed).
        preset: "tiny" (2 CPU cores) or "robotwin" (RoboTwin 2.0's settings, for a GPU); it sets the model and
            the values of steps, batch_size, lr, kl_weight and weight_decay left at 0.
        tasks: The task(s) to train on. One, by RoboTwin's protocol; several only with `multi_task`.
        multi_task: Train one task-conditioned model on every task given (or found).
        model: `ACT` constructor arguments overriding the preset's (e.g. {"chunk": 20}).
        kl_weight: Weight of the KL term (RoboTwin: 10).
        weight_decay: AdamW weight decay.
        backbone_lr_scale: The backbone's learning rate relative to `lr` (RoboTwin: 1).
        resnet_weights: A local torchvision ResNet-18 state dict (e.g. ImageNet) for the resnet18 backbone,
            which then uses frozen BatchNorm; never downloaded. Empty: GroupNorm, trained from scratch.
        holdout: Fraction of episodes held out for evaluation (RoboTwin: 0.2).
        split_seed: Seed of the held-out split.
        eval_samples: Held-out samples per periodic evaluation (evenly spread).
        cache_mb: Decoded frames are cached in memory up to this many MiB (per camera).
    """

    data: str
    preset: str = "tiny"
    tasks: list[str] | None = None
    multi_task: bool = False
    model: dict = field(default_factory=dict)
    kl_weight: float | None = None
    weight_decay: float | None = None
    backbone_lr_scale: float = 1.0
    resnet_weights: str = ""
    holdout: float = 0.1
    split_seed: int = 0
    eval_samples: int = 256
    cache_mb: int = 2048
    steps: int = 0
    batch_size: int = 0
    lr: float = 0.0
    warmup: int = 500
    eval_every: int = 500
    checkpoint_every: int = 500
    max_grad_norm: float = 10.0

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise UserError(f"unknown ACT preset {self.preset!r}; presets: {', '.join(sorted(PRESETS))}")
        preset = PRESETS[self.preset]
        for name in ("steps", "batch_size", "lr", "kl_weight", "weight_decay"):
            if not getattr(self, name):  # 0 / None: the preset's
                setattr(self, name, preset[name])
        super().__post_init__()
        self.data = str(Path(self.data).resolve())
        if self.resnet_weights:
            self.resnet_weights = str(Path(self.resnet_weights).resolve())
            if not Path(self.resnet_weights).is_file():
                raise UserError(f"--resnet-weights: no file {self.resnet_weights}")
        unknown = set(self.model) - MODEL_KEYS
        if unknown:
            raise UserError(f"unknown ACT settings {sorted(unknown)} (the tasks come from the data)")
        if self.tasks is not None and len(self.tasks) > 1 and not self.multi_task:
            raise UserError("ACT trains one task per model by RoboTwin's protocol: give one task, or --multi-task")
        if self.kl_weight < 0 or self.backbone_lr_scale < 0 or self.eval_samples < 1:
            raise UserError("kl_weight and backbone_lr_scale must be >= 0, eval_samples >= 1")

    def model_kwargs(self, tasks: list[str]) -> dict:
        """ACT's constructor arguments: the preset's, the overrides, the task list of a multi-task model."""
        kwargs = {**PRESETS[self.preset]["model"], **self.model}
        if kwargs.get("backbone") == "resnet18":
            kwargs["backbone_norm"] = "frozen_bn" if self.resnet_weights else "group"
        return {**kwargs, "tasks": sorted(tasks) if self.multi_task else []}

    def trainer_config(self) -> TrainerConfig:
        return TrainerConfig(**{f.name: getattr(self, f.name) for f in fields(TrainerConfig)})

    def to_dict(self) -> dict:
        return asdict(self)
