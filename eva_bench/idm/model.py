"""The inverse dynamics model (EVA paper, section 4.1): frames I_{t-k..t+k} -> action a_t.

Architecture (a standard visuomotor design, as robomimic's VisualCore): the 2k+1 RGB frames are stacked along
channels, (B, 3(2k+1), H, W); a small ResNet-style convolutional backbone (GroupNorm, so that training and
inference behave alike at any batch size) gives features (B, C, H/s, W/s); a pooling head turns them into a
vector: `spatial_softmax` (the paper's choice: a 1x1 conv to K keypoint maps, each turned into its expected
(x, y) position, (B, K, 2), flattened) or `avg` (global average pooling, (B, C): the paper's Table S2 ablation);
an MLP maps that vector to the 14-dim action.

The model normalizes its own inputs: frames enter as uint8 and are scaled to [-1, 1]; actions are regressed in
normalized units ((a - mean) / std, statistics of the training set kept as buffers, so they are saved with the
weights) and `predict` / `decode_video` return them in joint units (rad; grippers in [0, 1], not clipped).

A checkpoint is an eva-bench checkpoint folder of kind "idm" (`eva_bench.checkpoint`): `config.json` (the
constructor's arguments), `model.safetensors` (weights and normalization statistics), `checkpoint.json` (digest,
provenance). The constructor *is* the config: `IDM(**IDM.load_config(folder))` rebuilds the net.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from eva_bench.checkpoint import CheckpointError  # noqa: F401 (re-exported: callers catch it from here)
from eva_bench.idm.train_config import POOLINGS
from eva_bench.saved_model import SavedModel
from eva_bench.sim.embodiment import ACTION_DIM
from eva_bench.vision import SpatialSoftmax, conv_backbone

KIND = "idm"


@dataclass(frozen=True)
class Preset:
    """Named sizes of the IDM (see `IDM` for the meaning of each field)."""

    width: int
    height: int
    stem_channels: int
    stages: tuple[tuple[int, int, int], ...]
    keypoints: int
    hidden: tuple[int, ...]
    stem_pool: bool = False


PRESETS: dict[str, Preset] = {
    # 2 CPU cores: 128x96 input, stride-4 features (24 x 32 keypoint maps), 0.17 M parameters.
    "tiny": Preset(128, 96, 24, ((32, 1, 2), (64, 1, 1)), 32, (256, 256)),
    # The paper's shapes: 640x480 frames, a ResNet-18 layout (stride 32 -> 15 x 20 features), 64 keypoints,
    # 11.6 M parameters. The paper gives no backbone details; this follows robomimic's ResNet18Conv.
    "paper": Preset(640, 480, 64, ((64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)), 64, (512, 512), True),
}


class IDM(SavedModel):
    """Inverse dynamics model: frames (B, 2k+1, 3, H, W) uint8 -> normalized actions (B, 14).

    Args:
        context: k, frames on each side of t (the window holds 2k + 1 frames).
        width: Input frame width W (frames of another size are resized by `predict`).
        height: Input frame height H.
        stem_channels: Channels of the stride-2 5x5 stem conv.
        stem_pool: Follow the stem with a stride-2 3x3 max pool (as ResNet-18 does).
        stages: Backbone stages, each (channels, blocks, stride of its first block).
        pooling: "spatial_softmax" (keypoints) or "avg" (global average pooling; the Table S2 ablation).
        keypoints: K, keypoint maps of the spatial softmax.
        temperature: Spatial-softmax temperature.
        hidden: Hidden widths of the MLP head.
        action_dim: Size of an action (14).
    """

    kind = KIND

    def __init__(
        self,
        context: int = 2,
        width: int = 128,
        height: int = 96,
        stem_channels: int = 24,
        stem_pool: bool = False,
        stages: tuple[tuple[int, int, int], ...] | list = ((32, 1, 2), (64, 1, 1)),
        pooling: str = "spatial_softmax",
        keypoints: int = 32,
        temperature: float = 1.0,
        hidden: tuple[int, ...] | list = (256, 256),
        action_dim: int = ACTION_DIM,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if context < 0 or width < 8 or height < 8:
            raise ValueError(f"need context >= 0 and a frame of at least 8x8, got k={context}, {width}x{height}")
        stages = tuple(tuple(int(v) for v in s) for s in stages)
        hidden = tuple(int(h) for h in hidden)
        self.config = {
            "context": context, "width": width, "height": height, "stem_channels": stem_channels,
            "stem_pool": stem_pool,
            "stages": [list(s) for s in stages], "pooling": pooling, "keypoints": keypoints,
            "temperature": temperature, "hidden": list(hidden), "action_dim": action_dim,
        }
        self.frames = 2 * context + 1
        self.backbone, channels = conv_backbone(3 * self.frames, stem_channels, stages, stem_pool)
        if pooling == "spatial_softmax":
            self.pool: nn.Module = nn.Sequential(SpatialSoftmax(channels, keypoints, temperature), nn.Flatten())
            features = 2 * keypoints
        else:
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            features = channels
        mlp: list[nn.Module] = []
        for width_ in hidden:
            mlp += [nn.Linear(features, width_), nn.ReLU()]
            features = width_
        mlp.append(nn.Linear(features, action_dim))
        self.head = nn.Sequential(*mlp)
        self.register_buffer("action_mean", torch.zeros(action_dim))
        self.register_buffer("action_std", torch.ones(action_dim))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_preset(cls, name: str, **overrides) -> IDM:
        """The model of preset `name` ("tiny" or "paper"), with any constructor argument overridden."""
        if name not in PRESETS:
            raise ValueError(f"unknown IDM preset {name!r}; presets: {sorted(PRESETS)}")
        return cls(**{**asdict(PRESETS[name]), **overrides})

    def set_action_stats(self, actions: np.ndarray, min_std: float = 1e-2) -> None:
        """Store the normalization statistics of training actions (N, 14); std is floored at `min_std`."""
        actions = np.asarray(actions, np.float64)
        self.action_mean.copy_(torch.as_tensor(actions.mean(0), dtype=torch.float32))
        self.action_std.copy_(torch.as_tensor(np.maximum(actions.std(0), min_std), dtype=torch.float32))

    # ------------------------------------------------------------------ forward
    def output_shape(self, input_shape: tuple[int, ...] | None = None) -> tuple[int]:
        """(14,): the shape of one action (the input shape is (2k+1, 3, H, W))."""
        return (self.config["action_dim"],)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Normalized actions (B, 14) of frames (B, 2k+1, 3, H, W), uint8 (or float in [0, 255])."""
        b, n, c, h, w = frames.shape
        if (n, c, h, w) != (self.frames, 3, self.config["height"], self.config["width"]):
            raise ValueError(f"IDM expects frames (B, {self.frames}, 3, {self.config['height']}, "
                             f"{self.config['width']}), got {tuple(frames.shape)}")
        x = frames.reshape(b, n * c, h, w).float() / 127.5 - 1.0
        return self.head(self.pool(self.backbone(x)))

    def normalize(self, actions: torch.Tensor) -> torch.Tensor:
        """Joint-unit actions (..., 14) -> the network's normalized targets."""
        return (actions - self.action_mean) / self.action_std

    def denormalize(self, normalized: torch.Tensor) -> torch.Tensor:
        """The network's outputs (..., 14) -> joint-unit actions."""
        return normalized * self.action_std + self.action_mean

    @torch.no_grad()
    def predict(self, frames: np.ndarray | torch.Tensor) -> np.ndarray:
        """Actions (B, 14) float32 in joint units of uint8 windows (B, 2k+1, 3, H', W') of any size.

        Frames of another size than the model's are resized (bilinear, antialiased).
        """
        was_training = self.training
        self.eval()
        try:
            x = torch.as_tensor(frames).to(self.action_mean.device)
            b, n = x.shape[:2]
            x = self.resize(x.reshape(b * n, *x.shape[2:])).reshape(b, n, 3, self.config["height"], -1)
            return self.denormalize(self(x)).cpu().numpy().astype(np.float32)
        finally:
            self.train(was_training)

    def resize(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (N, 3, H', W') resized to the model's input size (bilinear, antialiased), as uint8."""
        size = (self.config["height"], self.config["width"])
        if tuple(frames.shape[-2:]) == size:
            return frames
        out = F.interpolate(frames.float(), size=size, mode="bilinear", antialias=True, align_corners=False)
        return out.clamp(0, 255).round().to(torch.uint8)

    def decode_video(self, video: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """The action of every frame of a video: (T, H, W, 3) uint8 -> (T, 14) float32.

        Frame t is decoded from the window t-k .. t+k, clamped at the video's ends (as `FrameWindows` does in
        training), so the output has one action per frame, aligned like an episode's `joint_action/vector`.
        """
        video = np.asarray(video)
        if video.ndim != 4 or video.shape[-1] != 3 or len(video) == 0:
            raise ValueError(f"video must be (T, H, W, 3) uint8 with T >= 1, got {video.shape}")
        k, steps = self.config["context"], len(video)
        chw = torch.from_numpy(np.ascontiguousarray(video.transpose(0, 3, 1, 2)))
        chw = torch.cat([self.resize(chw[i:i + batch_size]) for i in range(0, steps, batch_size)])  # once a frame
        out = []
        for start in range(0, steps, batch_size):
            t = np.arange(start, min(start + batch_size, steps))
            rows = np.clip(t[:, None] + np.arange(-k, k + 1)[None], 0, steps - 1)
            out.append(self.predict(chw[torch.from_numpy(rows)]))
        return np.concatenate(out)


def load_idm(folder: str | os.PathLike, device: str = "cpu") -> IDM:
    """A trained IDM from a checkpoint folder, on `device`, in eval mode."""
    return IDM.load(folder, map_location=device).to(device).eval()
