"""`VideoWorldModel`: the flow-matching video transformer (diffusers' `WanTransformer3DModel`) over latents.

The paper's world model is a Wan2.1 DiT fine-tuned on the embodiment's demonstrations with diffusion forcing:
every latent frame carries its own noise level, history frames are clean (noise level 0) and the frames to
generate share one level, so one network both conditions on a variable history and denoises the segment.
Here the per-frame levels become Wan's per-token timesteps (the Wan2.2 TI2V form: a (B, tokens) timestep).

Shapes (frames first, as `FrameAutoencoder` gives them): latents (B, F, C, h, w), noise levels sigma (B, F) in
[0, 1] (0 = clean), instruction embeddings (B, L, text_dim) -> predicted velocity (B, F, C, h, w), the flow
matching target noise - clean (`eva_bench.world_model.flow`).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import torch

from eva_bench.errors import UserError
from eva_bench.saved_model import SavedModel
from eva_bench.world_model.presets import PRESETS
from eva_bench.world_model.text import TEXT_DIM

KIND = "world_model"
TIMESTEP_SCALE = 1000.0  # diffusers' flow-matching timesteps are sigma x 1000


class VideoWorldModel(SavedModel):
    """Velocity of latent video frames given their noise levels and the instruction (module docstring: shapes).

    Args:
        latent_channels: C, channels of a latent frame (the autoencoder's).
        text_dim: Width of the instruction embeddings.
        layers: Transformer blocks.
        heads: Attention heads.
        head_dim: Channels per head.
        ffn_dim: Hidden width of each block's feed-forward layer.
        freq_dim: Sinusoidal width of the timestep embedding.
        patch: (frames, rows, columns) of latent cells per token.
        rope_max_seq_len: Longest axis the rotary position embedding covers (in patches).
    """

    kind = KIND

    def __init__(
        self,
        latent_channels: int = 16,
        text_dim: int = TEXT_DIM,
        layers: int = 4,
        heads: int = 4,
        head_dim: int = 32,
        ffn_dim: int = 512,
        freq_dim: int = 64,
        patch: tuple[int, int, int] | list = (1, 2, 2),
        rope_max_seq_len: int = 64,
    ) -> None:
        super().__init__()
        from diffusers import WanTransformer3DModel  # lazy: importing diffusers costs seconds

        patch = tuple(int(p) for p in patch)
        self.config = {
            "latent_channels": latent_channels, "text_dim": text_dim, "layers": layers, "heads": heads,
            "head_dim": head_dim, "ffn_dim": ffn_dim, "freq_dim": freq_dim, "patch": list(patch),
            "rope_max_seq_len": rope_max_seq_len,
        }
        self.patch = patch
        self.net = WanTransformer3DModel(
            patch_size=patch, num_attention_heads=heads, attention_head_dim=head_dim, in_channels=latent_channels,
            out_channels=latent_channels, text_dim=text_dim, freq_dim=freq_dim, ffn_dim=ffn_dim, num_layers=layers,
            rope_max_seq_len=rope_max_seq_len,
        )

    @classmethod
    def from_preset(cls, name: str, **overrides) -> VideoWorldModel:
        """The model of preset `name`, with any constructor argument overridden."""
        if name not in PRESETS:
            raise ValueError(f"unknown world-model preset {name!r}; presets: {sorted(PRESETS)}")
        return cls(**{**asdict(PRESETS[name]), **overrides})

    @classmethod
    def from_diffusers(cls, folder: str | os.PathLike) -> VideoWorldModel:
        """A world model around the pre-trained `WanTransformer3DModel` of a local diffusers folder (a Wan2.1
        pipeline folder with a `transformer/` subfolder, or that subfolder), e.g. Wan2.1-T2V-1.3B for the
        `paper` preset; nothing is downloaded.

        Raises:
            UserError: No diffusers transformer there.
        """
        from diffusers import WanTransformer3DModel

        path = Path(folder)
        path = path / "transformer" if (path / "transformer" / "config.json").is_file() else path
        if not (path / "config.json").is_file():
            raise UserError(f"{folder}: no diffusers WanTransformer3DModel (config.json) there or in transformer/")
        net = WanTransformer3DModel.from_pretrained(path, local_files_only=True)
        c = net.config
        if c.in_channels != c.out_channels:
            raise UserError(f"{path}: in_channels {c.in_channels} != out_channels {c.out_channels}; only "
                            "text-to-video transformers take per-frame noise levels (an image-to-video Wan "
                            "concatenates its condition in the channels)")
        with torch.device("meta"):  # the wrapper's own net is replaced at once: build it without memory
            model = cls(latent_channels=c.in_channels, text_dim=c.text_dim, layers=c.num_layers,
                        heads=c.num_attention_heads, head_dim=c.attention_head_dim, ffn_dim=c.ffn_dim,
                        freq_dim=c.freq_dim, patch=c.patch_size, rope_max_seq_len=c.rope_max_seq_len)
        model.net = net
        return model

    def forward(self, latents: torch.Tensor, sigmas: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Velocity (B, F, C, h, w) of latents (B, F, C, h, w) at per-frame noise levels sigmas (B, F)."""
        b, f, c, h, w = latents.shape
        pf, ph, pw = self.patch
        if c != self.config["latent_channels"] or f % pf or h % ph or w % pw:
            raise ValueError(f"latents must be (B, F, {self.config['latent_channels']}, h, w) with F, h, w "
                             f"multiples of the patch {self.patch}, got {tuple(latents.shape)}")
        if sigmas.shape != (b, f):
            raise ValueError(f"sigmas must be (B, F) = {(b, f)}, got {tuple(sigmas.shape)}")
        tokens_per_frame = (h // ph) * (w // pw)
        # One timestep per token: each patch of frames carries the level of its first frame.
        timesteps = (sigmas[:, ::pf] * TIMESTEP_SCALE).repeat_interleave(tokens_per_frame, dim=1)
        out = self.net(latents.permute(0, 2, 1, 3, 4), timesteps, text, return_dict=False)[0]
        return out.permute(0, 2, 1, 3, 4)
