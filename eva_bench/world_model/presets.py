"""World-model presets: transformer shapes by name (torch-free, so configs and the CLI can list them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorldModelPreset:
    """Transformer shapes of a preset (the `VideoWorldModel` arguments it sets)."""

    layers: int
    heads: int
    head_dim: int
    ffn_dim: int
    freq_dim: int
    text_dim: int = 384  # all-MiniLM-L6-v2's token embeddings, the offline instruction encoder
    rope_max_seq_len: int = 64


PRESETS = {
    # 1.3 M parameters: about 1.2 s per SFT step of batch 8 on one CPU core (docs/performance.md).
    "tiny": WorldModelPreset(layers=4, heads=4, head_dim=32, ffn_dim=512, freq_dim=64),
    # 5.2 M parameters: the next size up for CPU training (docs/performance.md has its step time).
    "small": WorldModelPreset(layers=8, heads=6, head_dim=32, ffn_dim=768, freq_dim=64),
    # Wan2.1-T2V-1.3B's transformer (1.42 B parameters with its umT5-XXL text width, 4096), the paper's base
    # model: 640x480, 49 frames = 13 latents of 60x80 with Wan's VAE. For GPU users with local weights
    # (`VideoWorldModel.from_diffusers`); far beyond two CPU cores.
    "paper": WorldModelPreset(layers=30, heads=12, head_dim=128, ffn_dim=8960, freq_dim=256, text_dim=4096,
                              rope_max_seq_len=1024),
}
