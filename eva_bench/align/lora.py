"""LoRA adapters of the world model (peft, through diffusers' `PeftAdapterMixin` on `WanTransformer3DModel`).

A LoRA checkpoint is an eva-bench checkpoint of kind "lora": config.json holds the adapter's shape (rank,
alpha, target modules), model.safetensors the adapter weights only (a few hundred kB for the tiny preset), and
the provenance names the base world model (path and digest): `load_lora` refuses another base. With the
adapter disabled the model is its base exactly, which is GRPO's reference policy for the KL term.
"""

from __future__ import annotations

import os
from pathlib import Path

from eva_bench.checkpoint import Checkpoint, CheckpointError, make_provenance, read_checkpoint, write_checkpoint
from eva_bench.world_model.model import VideoWorldModel

KIND = "lora"
# The attention projections of both of Wan's attentions (self: attn1, cross: attn2), as Flow-GRPO adapts them.
DEFAULT_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


def lora_config(rank: int, alpha: float, targets: tuple[str, ...] | list[str] = DEFAULT_TARGETS):
    """The peft `LoraConfig` of an adapter (gaussian init: B = 0, so a new adapter leaves the model unchanged)."""
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights="gaussian", target_modules=list(targets))


def add_lora(model: VideoWorldModel, rank: int, alpha: float,
             targets: tuple[str, ...] | list[str] = DEFAULT_TARGETS) -> VideoWorldModel:
    """Attach a new adapter to `model` (in place); the base weights are frozen, only the adapter trains."""
    model.net.add_adapter(lora_config(rank, alpha, targets))
    model.lora = {"rank": int(rank), "alpha": float(alpha), "targets": list(targets)}
    return model


def save_lora(model: VideoWorldModel, folder: str | os.PathLike, base: Checkpoint,
              provenance: dict | None = None) -> Checkpoint:
    """Write the adapter of `model` (made by `add_lora` on the world model of checkpoint `base`)."""
    from peft.utils import get_peft_model_state_dict

    state = {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model.net).items()}
    named = {**(provenance or make_provenance()), "base": {"path": str(base.folder), "digest": base.digest}}
    return write_checkpoint(folder, KIND, dict(model.lora), state, named)


def find_base(checkpoint: Checkpoint, base: str | os.PathLike | None = None) -> Checkpoint:
    """The base world model of a LoRA checkpoint: `base`, else the recorded path; its digest must match."""
    provenance = checkpoint.provenance if isinstance(checkpoint.provenance, dict) else {}
    recorded = provenance.get("base") or {}
    path = Path(base) if base else Path(recorded.get("path", ""))
    if not recorded.get("path") and not base:
        raise CheckpointError(f"the LoRA adapter at {checkpoint.folder} names no base world model; pass it")
    found = read_checkpoint(path, "world_model")
    if recorded.get("digest") and found.digest != recorded["digest"]:
        raise CheckpointError(f"the world model at {found.folder} (digest {found.short_digest}) is not the base "
                              f"the LoRA adapter at {checkpoint.folder} was trained on")
    return found


def load_lora(folder: str | os.PathLike, base: str | os.PathLike | None = None) -> tuple[VideoWorldModel, Checkpoint]:
    """The base world model with the adapter of the LoRA checkpoint in `folder` applied, and the base's
    checkpoint.

    Raises:
        CheckpointError: A missing or corrupt adapter, or a missing or other base.
    """
    from peft.utils import set_peft_model_state_dict

    checkpoint = read_checkpoint(folder, KIND)
    base_checkpoint = find_base(checkpoint, base)
    model = VideoWorldModel.load(base_checkpoint.folder)
    config = checkpoint.config
    add_lora(model, config["rank"], config["alpha"], config["targets"])
    result = set_peft_model_state_dict(model.net, checkpoint.load_state_dict())
    if getattr(result, "unexpected_keys", None):
        raise CheckpointError(f"{checkpoint.folder}: adapter weights that fit no layer: {result.unexpected_keys[:3]}")
    return model, base_checkpoint
