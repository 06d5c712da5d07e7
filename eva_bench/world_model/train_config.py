"""`WorldModelTrainConfig`: the settings of one world-model SFT run (`eva-bench train wm` takes its defaults and
help texts from here). Free of torch, so the command line starts fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.training.config import TrainerConfig
from eva_bench.world_model.presets import PRESETS


@dataclass(kw_only=True)
class WorldModelTrainConfig(TrainerConfig):
    """One SFT run of the video world model: the generic trainer's settings (`TrainerConfig`) and the model's.

    Args:
        data: Folder of episode files, searched recursively.
        autoencoder: The video autoencoder checkpoint (`eva-bench train vae`); the world model lives in its
            latent space, so the autoencoder is part of the world-model checkpoint's provenance.
        out: Run folder: the model lands in out/model, the resumable state in out/state; an existing run there
            is resumed.
        steps: Optimizer steps in total.
        batch_size: Clips per optimizer step.
        lr: Peak learning rate (the paper fine-tunes a pre-trained Wan at 8e-6; the tiny preset trains from
            scratch).
        preset: Transformer size: "tiny" (1.3 M parameters, CPU), "small" (5.2 M, CPU) or "paper"
            (Wan2.1-T2V-1.3B's shapes, GPU; its text width must be set to the instruction encoder's 384 through
            `model`).
        model: Further `VideoWorldModel` arguments overriding the preset.
        history_latents: Most clean history latents per clip (each step draws 1 .. this many: random history
            conditioning); one latent is 4 frames, the paper's history.
        segment_latents: Latents generated after the history (4 = 16 frames).
        shift: Flow-matching level shift, in training and sampling.
        camera: Camera whose frames are modelled.
        tasks: Train only on these tasks (None: every episode under `data`).
        holdout: Fraction of episodes held out for evaluation (by episode).
        split_seed: Seed of the held-out split (the IDM's, so all models hold out the same episodes).
        weight_decay: AdamW weight decay (the paper's 0.05).
        beta2: AdamW's second-moment decay (the paper's 0.95).
        eval_clips: Held-out clips of the periodic flow-matching loss (fixed noise, evenly spread).
        eval_segments: Held-out segments generated at each evaluation (PSNR against the real frames and the
            IDM reward); the final evaluation uses 4x as many.
        sample_steps: ODE steps of those generations.
        reward_idm: IDM of the generated segments' reward; "" skips it, None: the released IDM.
        latent_cache: Where the pre-encoded latents are kept (None: <out>/latents).
    """

    data: str
    autoencoder: str
    steps: int = 6000
    batch_size: int = 8
    lr: float = 5e-4
    preset: str = "tiny"
    model: dict = field(default_factory=dict)
    history_latents: int = 2
    segment_latents: int = 4
    shift: float = 3.0
    camera: str = "head_camera"
    tasks: list[str] | None = None
    holdout: float = 0.1
    split_seed: int = 0
    weight_decay: float = 0.05
    beta2: float = 0.95
    eval_clips: int = 64
    eval_segments: int = 4
    sample_steps: int = 10
    reward_idm: str | None = None
    latent_cache: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.data = str(Path(self.data).resolve())
        self.autoencoder = str(Path(self.autoencoder).resolve())
        if self.latent_cache is not None:
            self.latent_cache = str(Path(self.latent_cache).resolve())
        if self.preset not in PRESETS:
            raise UserError(f"unknown world-model preset {self.preset!r}; presets: {sorted(PRESETS)}")
        if self.history_latents < 1 or self.segment_latents < 1:
            raise UserError("history_latents and segment_latents must be >= 1")
        if self.eval_clips < 1 or self.eval_segments < 0 or self.sample_steps < 1 or self.shift <= 0:
            raise UserError("eval_clips and sample_steps must be >= 1, eval_segments >= 0, shift > 0")

    @property
    def clip_latents(self) -> int:
        """Latents of a training clip at the longest history."""
        return self.history_latents + self.segment_latents

    def trainer_config(self) -> TrainerConfig:
        """The generic trainer's part of this config."""
        return TrainerConfig(**{f.name: getattr(self, f.name) for f in fields(TrainerConfig)})

    def to_dict(self) -> dict:
        return asdict(self)
