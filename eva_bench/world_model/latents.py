"""Demonstrations as latent clips for world-model training: pre-encoded once, cached on disk, with instructions.

Encoding every frame through the autoencoder at each step would cost more than the transformer itself, so each
episode's frames are encoded once (groups 0-3, 4-7, ...; a last partial group repeats the final frame) into
`<cache>/<digest>/<task>/<episode>.npy` (float16, (G, C, h, w)), where <digest> is the autoencoder checkpoint's:
another autoencoder never reads these latents. The instructions of an episode are its `instructions/*.json`
"seen" list (RoboTwin's layout, ours too), else the one instruction stored in the episode.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from eva_bench.data.episode import EpisodeFile, read_episode
from eva_bench.world_model.autoencoder import FrameAutoencoder


def episode_instructions(path: Path) -> list[str]:
    """The seen instructions of an episode file (see the module docstring)."""
    sidecar = path.parent.parent / "instructions" / f"{path.stem}.json"
    if sidecar.is_file():
        seen = json.loads(sidecar.read_text()).get("seen") or []
        if seen:
            return [str(s) for s in seen]
    attrs = EpisodeFile(path).attrs
    if attrs.get("instruction"):
        return [str(attrs["instruction"])]
    raise ValueError(f"{path}: no instruction (no instructions/{path.stem}.json and none stored in the file)")


@torch.no_grad()
def encode_episode(autoencoder: FrameAutoencoder, path: Path, camera: str, batch_groups: int = 8) -> np.ndarray:
    """Normalized latents (G, C, h, w) float16 of an episode's frames (G = ceil(T / group))."""
    video = read_episode(path, [camera]).cameras[camera].frames()
    group = autoencoder.group
    pad = -len(video) % group
    if pad:
        video = np.concatenate([video, np.repeat(video[-1:], pad, 0)])
    frames = torch.from_numpy(np.ascontiguousarray(video.transpose(0, 3, 1, 2))).reshape(-1, group, 3,
                                                                                          *video.shape[1:3])
    out = [autoencoder.encode(frames[i:i + batch_groups])[:, 0] for i in range(0, len(frames), batch_groups)]
    return torch.cat(out).numpy().astype(np.float16)


class LatentEpisodes:
    """Every episode's latents (from the cache, encoding what is missing) and instructions.

    Args:
        paths: Episode files.
        autoencoder: The autoencoder checkpoint folder.
        camera: Camera whose frames are encoded.
        cache: Cache folder (see the module docstring).
        progress: Called as progress(done, total) while encoding.
    """

    def __init__(self, paths: list[Path], autoencoder: str, camera: str, cache: Path, progress=None) -> None:
        from eva_bench.checkpoint import read_checkpoint

        checkpoint = read_checkpoint(autoencoder, "autoencoder")
        self.autoencoder_digest = checkpoint.digest
        folder = Path(cache) / checkpoint.short_digest
        model = None
        self.paths = [Path(p) for p in paths]
        self.latents: list[np.ndarray] = []
        self.instructions: list[list[str]] = []
        for done, path in enumerate(self.paths):
            file = folder / path.parent.parent.name / f"{path.stem}.npy"
            if file.is_file():
                latents = np.load(file)
            else:
                if model is None:
                    model = FrameAutoencoder.load(checkpoint.folder).eval()
                latents = encode_episode(model, path, camera)
                file.parent.mkdir(parents=True, exist_ok=True)
                tmp = file.with_suffix(".tmp.npy")
                np.save(tmp, latents)
                tmp.replace(file)  # whole files only: an interrupted encoding is redone
            self.latents.append(latents)
            self.instructions.append(episode_instructions(path))
            if progress is not None:
                progress(done + 1, len(self.paths))

    def clips(self, length: int) -> np.ndarray:
        """(episode, start) of every clip of `length` latents (episodes shorter than that give one clip at 0,
        padded by `clip`)."""
        index = [(e, s) for e, lat in enumerate(self.latents) for s in range(max(len(lat) - length, 0) + 1)]
        return np.asarray(index, np.int64)

    def clip(self, episode: int, start: int, length: int) -> np.ndarray:
        """Latents (length, C, h, w) float32 from `start`; past the episode's end the last latent repeats."""
        latents = self.latents[episode]
        rows = np.minimum(np.arange(start, start + length), len(latents) - 1)
        return latents[rows].astype(np.float32)
