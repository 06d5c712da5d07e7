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


PRESETS = {
    # 1.3 M parameters: about 1.2 s per SFT step of batch 8 on one CPU core (../shared/reference/world-model.md).
    "tiny": WorldModelPreset(layers=4, heads=4, head_dim=32, ffn_dim=512, freq_dim=64),
}
