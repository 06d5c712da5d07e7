"""`WorldModelPipeline`: real frames + instruction -> imagined frames (diffusers' split: model, sampler, pipeline).

The pipeline holds what imagining a segment needs: the world model (`VideoWorldModel`), the autoencoder whose
latent space it lives in (`FrameAutoencoder`; the world-model checkpoint's provenance names it and its digest)
and the instruction encoder. `imagine` encodes the most recent real frames into clean history latents, runs the
Euler ODE sampler (`eva_bench.world_model.flow.generate`) for the segment and decodes it back to frames.

Where the autoencoder is found, first match: the `autoencoder` argument; an `autoencoder/` folder inside the
world-model checkpoint folder or its run folder (how a released checkpoint travels); the path recorded at
training time (relative paths are taken from the checkpoint folder). Its digest must be the recorded one: a
world model decoded by another autoencoder would imagine noise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from eva_bench.checkpoint import Checkpoint, CheckpointError, read_checkpoint
from eva_bench.world_model.autoencoder import FrameAutoencoder, to_uint8
from eva_bench.world_model.flow import DEFAULT_SHIFT, generate
from eva_bench.world_model.model import VideoWorldModel
from eva_bench.world_model.text import InstructionEncoder

AUTOENCODER_DIR = "autoencoder"


@dataclass(frozen=True)
class SamplingDefaults:
    """How a world model was trained to be sampled (its checkpoint's provenance "sampling"; older: defaults)."""

    shift: float = DEFAULT_SHIFT
    history_latents: int = 1
    segment_latents: int = 4

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> SamplingDefaults:
        saved = checkpoint.provenance.get("sampling") if isinstance(checkpoint.provenance, dict) else None
        return cls(**{k: v for k, v in (saved or {}).items() if k in cls.__dataclass_fields__})


def find_autoencoder(checkpoint: Checkpoint, autoencoder: str | os.PathLike | None = None) -> Checkpoint:
    """The autoencoder checkpoint of a world model (module docstring: where it is looked for).

    Raises:
        CheckpointError: None found, or one whose digest is not the one the world model was trained with.
    """
    provenance = checkpoint.provenance if isinstance(checkpoint.provenance, dict) else {}
    recorded = provenance.get("autoencoder") or {}
    candidates = [Path(autoencoder)] if autoencoder else []
    candidates += [checkpoint.folder / AUTOENCODER_DIR, checkpoint.folder.parent / AUTOENCODER_DIR]
    if recorded.get("path"):
        path = Path(recorded["path"])
        candidates.append(path if path.is_absolute() else checkpoint.folder / path)
    for candidate in candidates:
        if not (candidate / "checkpoint.json").is_file() and not (candidate / "model" / "checkpoint.json").is_file():
            if autoencoder and candidate == Path(autoencoder):
                raise CheckpointError(f"--autoencoder {autoencoder}: no autoencoder checkpoint there")
            continue
        found = read_checkpoint(candidate, "autoencoder")
        if recorded.get("digest") and found.digest != recorded["digest"]:
            raise CheckpointError(
                f"the autoencoder at {found.folder} (digest {found.short_digest}) is not the one the world model "
                f"at {checkpoint.folder} was trained with ({recorded['digest'].split(':')[-1][:12]})")
        return found
    looked = ", ".join(str(c) for c in candidates)
    raise CheckpointError(f"the world model at {checkpoint.folder} names no autoencoder that exists (looked in: "
                          f"{looked}); pass the one it was trained with")


class WorldModelPipeline:
    """Imagines video segments that continue real frames (module docstring).

    Args:
        model: The world model.
        autoencoder: Its autoencoder.
        encoder: The instruction encoder.
        sampling: Defaults of `imagine` (shift, history and segment length).
        checkpoint: The world model's checkpoint (None when built in memory).
    """

    def __init__(self, model: VideoWorldModel, autoencoder: FrameAutoencoder, encoder: InstructionEncoder,
                 sampling: SamplingDefaults | None = None, checkpoint: Checkpoint | None = None) -> None:
        if model.config["latent_channels"] != autoencoder.config["latent_channels"]:
            raise ValueError(f"the world model has {model.config['latent_channels']} latent channels, the "
                             f"autoencoder {autoencoder.config['latent_channels']}")
        self.model, self.autoencoder, self.encoder = model.eval(), autoencoder.eval(), encoder
        self.sampling = sampling or SamplingDefaults()
        self.checkpoint = checkpoint

    @classmethod
    def load(cls, folder: str | os.PathLike, autoencoder: str | os.PathLike | None = None) -> WorldModelPipeline:
        """The pipeline of the world-model checkpoint (or training run) in `folder`, or of a LoRA adapter
        checkpoint (`eva_bench.align.lora`) on its base world model.

        Raises:
            CheckpointError: A missing, corrupt or mismatched world model or autoencoder.
        """
        checkpoint = read_checkpoint(folder)
        if checkpoint.kind == "lora":  # an aligned world model: its base with the adapter applied
            from eva_bench.align.lora import load_lora

            model, base = load_lora(checkpoint.folder)
        elif checkpoint.kind == "world_model":
            model, base = VideoWorldModel.load(checkpoint.folder), checkpoint
        else:
            raise CheckpointError(f"{checkpoint.folder} holds a {checkpoint.kind!r} checkpoint, not a world model "
                                  "or its LoRA adapter")
        ae_checkpoint = find_autoencoder(base, autoencoder)
        text = base.provenance.get("text_encoder") if isinstance(base.provenance, dict) else None
        encoder = InstructionEncoder(text if text and Path(text).is_dir() else None)
        return cls(model, FrameAutoencoder.load(ae_checkpoint.folder), encoder, SamplingDefaults.of(base),
                   checkpoint)

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the frames the pipeline reads and writes."""
        return self.autoencoder.config["width"], self.autoencoder.config["height"]

    @property
    def group(self) -> int:
        """Frames per latent."""
        return self.autoencoder.group

    def history_latents(self, frames: np.ndarray, count: int) -> torch.Tensor:
        """Clean latents (1, count, C, h, w) of the last count x group frames (T, H, W, 3) uint8; a shorter
        video is padded at the front with its first frame (the start of an episode: the robot at rest)."""
        frames = np.asarray(frames)
        need = count * self.group
        if len(frames) < need:
            frames = np.concatenate([np.repeat(frames[:1], need - len(frames), 0), frames])
        frames = np.ascontiguousarray(frames[-need:].transpose(0, 3, 1, 2))
        return self.autoencoder.encode(torch.from_numpy(frames)[None])

    @torch.no_grad()
    def imagine(self, frames: np.ndarray, instruction: str, seed: int, segment_latents: int | None = None,
                history_latents: int | None = None, steps: int = 10, shift: float | None = None) -> np.ndarray:
        """Frames (segment_latents x group, H, W, 3) uint8 that continue the real `frames` (T >= 1, H, W, 3).

        Deterministic given `seed` (the initial noise is the sampler's only randomness). Settings left None take
        the checkpoint's sampling defaults.
        """
        width, height = self.frame_size
        if frames.ndim != 4 or frames.shape[1:] != (height, width, 3) or not len(frames):
            raise ValueError(f"frames must be (T >= 1, {height}, {width}, 3) uint8, got {frames.shape}")
        segment = segment_latents or self.sampling.segment_latents
        history = self.history_latents(frames, history_latents or self.sampling.history_latents)
        text = self.encoder.encode([instruction])
        latents = generate(self.model, history, segment, text, steps,
                           self.sampling.shift if shift is None else shift, torch.Generator().manual_seed(seed))
        return to_uint8(self.autoencoder.decode(latents))[0].transpose(0, 2, 3, 1)
