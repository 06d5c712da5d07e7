"""`AutoencoderTrainConfig`: the settings of one video-autoencoder training run (`eva-bench train vae` takes its
defaults and help texts from here). Free of torch, so the command line starts fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from eva_bench.errors import UserError
from eva_bench.training.config import TrainerConfig


@dataclass(kw_only=True)
class AutoencoderTrainConfig(TrainerConfig):
    """One autoencoder training run: the generic trainer's settings (`TrainerConfig`) and the autoencoder's.

    Args:
        data: Folder of episode files (ours or RoboTwin 2.0's), searched recursively.
        out: Run folder: the model lands in out/model, the resumable state in out/state; an existing run there
            is resumed.
        steps: Optimizer steps in total.
        batch_size: Frame groups per optimizer step.
        lr: Peak learning rate.
        model: `FrameAutoencoder` constructor arguments (group, latent_channels, block_channels,
            layers_per_block, latent_noise, latent_multiple); width and height come from the data.
        camera: Camera whose frames are used.
        tasks: Train only on these tasks (None: every episode under `data`).
        holdout: Fraction of episodes held out for evaluation (by episode).
        split_seed: Seed of the held-out split (the IDM's default, so both hold out the same episodes).
        weight_decay: AdamW weight decay.
        l1_weight: Weight of the L1 term beside the squared error (L1 keeps edges: thin arm links).
        stats_groups: Training groups whose latents give the normalization statistics stored with the model.
        eval_samples: Held-out groups per periodic evaluation (evenly spread); the final one uses 4x as many.
        reward_idm: IDM checkpoint of the reward round trip in the final evaluation (the reward of
            reconstructed held-out videos against that of the real ones); "" skips it, None: the released IDM.
        reward_episodes: Held-out episodes of that round trip.
        cache_mb: Decoded frames are cached in memory up to this many MiB.
        window_groups: Consecutive groups per training sample; with 2 or more the loss sees the seams between
            groups (each group is encoded alone, so its frames can jump at the seam).
        temporal_weight: Weight of an L1 loss on the frame-to-frame differences of the sample (seams included)
            against the real ones: what the IDM reads motion from (0: off).
        idm_weight: Weight of the IDM consistency loss: the squared error between the frozen IDM's (normalized)
            actions decoded from reconstructed and from real frames, over every IDM window of the sample. It
            trains the autoencoder on what the reward reads (0: off).
        idm: The IDM of that loss (None: $EVA_BENCH_IDM or the released IDM).
        init: An autoencoder checkpoint (with the same settings) whose weights start a new run, e.g. to
            fine-tune with the temporal loss; "" starts from scratch.
    """

    data: str
    steps: int = 2000
    batch_size: int = 8
    lr: float = 1e-3
    model: dict = field(default_factory=dict)
    camera: str = "head_camera"
    tasks: list[str] | None = None
    holdout: float = 0.1
    split_seed: int = 0
    weight_decay: float = 0.0
    l1_weight: float = 1.0
    stats_groups: int = 128
    eval_samples: int = 64
    reward_idm: str | None = None
    reward_episodes: int = 8
    cache_mb: int = 2048
    window_groups: int = 1
    temporal_weight: float = 0.0
    idm_weight: float = 0.0
    idm: str | None = None
    init: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.data = str(Path(self.data).resolve())
        if self.init:
            self.init = str(Path(self.init).resolve())
        if self.window_groups < 1 or self.temporal_weight < 0 or self.idm_weight < 0:
            raise UserError("window_groups must be >= 1, temporal_weight and idm_weight >= 0")
        if self.l1_weight < 0 or self.stats_groups < 1 or self.eval_samples < 1 or self.reward_episodes < 0:
            raise UserError("l1_weight must be >= 0; stats_groups and eval_samples >= 1; reward_episodes >= 0")
        unknown = set(self.model) - {"group", "latent_channels", "block_channels", "layers_per_block",
                                     "latent_noise", "latent_multiple"}
        if unknown:
            raise UserError(f"unknown autoencoder settings {sorted(unknown)} (width and height come from the data)")

    def trainer_config(self) -> TrainerConfig:
        """The generic trainer's part of this config."""
        return TrainerConfig(**{f.name: getattr(self, f.name) for f in fields(TrainerConfig)})

    def to_dict(self) -> dict:
        return asdict(self)
