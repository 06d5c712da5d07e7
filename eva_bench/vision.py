"""Convolutional image backbones and pooling heads shared by the learned policies (the IDM, ACT, DP).

- `conv_backbone`: a small ResNet-style stack (a strided 5x5 stem, then basic blocks) with GroupNorm, so training
  and inference behave alike at any batch size: what the `tiny` presets use on 2 CPU cores.
- `ResNet18`: torchvision's ResNet-18 layout written without torchvision (which does not import beside the CPU
  torch), with torchvision's parameter names, so a user's local ImageNet state dict loads into it
  (`load_torchvision_weights`); with GroupNorm (training from scratch) or frozen BatchNorm (pretrained weights,
  as RoboTwin's ACT uses them).
- `SpatialSoftmax`: keypoints (expected positions of K feature maps), the IDM's and DP-tiny's pooling head.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def group_count(channels: int) -> int:
    """GroupNorm groups for a layer of `channels` (8 when they divide, else 1)."""
    return 8 if channels % 8 == 0 else 1


class ResidualBlock(nn.Module):
    """A ResNet basic block with GroupNorm: (B, C_in, H, W) -> (B, C_out, H/stride, W/stride)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm1 = nn.GroupNorm(group_count(c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.norm2 = nn.GroupNorm(group_count(c_out), c_out)
        self.skip = (nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.GroupNorm(group_count(c_out), c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(y)) + self.skip(x))


def conv_backbone(in_channels: int, stem_channels: int, stages, stem_pool: bool = False) -> tuple[nn.Sequential, int]:
    """(the backbone, its output channels): a stride-2 5x5 stem (+ an optional stride-2 max pool), then for each
    stage (channels, blocks, stride of its first block) that many `ResidualBlock`s."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, stem_channels, 5, 2, 2, bias=False),
                               nn.GroupNorm(group_count(stem_channels), stem_channels), nn.ReLU()]
    if stem_pool:
        layers.append(nn.MaxPool2d(3, 2, 1))
    channels = stem_channels
    for out, blocks, stride in stages:
        for i in range(blocks):
            layers.append(ResidualBlock(channels, out, stride if i == 0 else 1))
            channels = out
    return nn.Sequential(*layers), channels


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm with fixed statistics and affine parameters (buffers, never trained), as DETR/ACT use it."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        for name, value in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
            self.register_buffer(name, torch.full((channels,), value))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        state_dict.pop(prefix + "num_batches_tracked", None)  # torchvision's BatchNorm has it; frozen ones do not
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + 1e-5).rsqrt()
        return x * scale[None, :, None, None] + (self.bias - self.running_mean * scale)[None, :, None, None]


def _norm(kind: str, channels: int) -> nn.Module:
    return FrozenBatchNorm2d(channels) if kind == "frozen_bn" else nn.GroupNorm(max(1, channels // 16), channels)


class _BasicBlock(nn.Module):
    """torchvision's BasicBlock (same parameter names)."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = _norm(norm, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = _norm(norm, c_out)
        self.downsample = None if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), _norm(norm, c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """ResNet-18 features (B, 3, H, W) -> (B, 512, H/32, W/32), torchvision's names, no classifier.

    Args:
        norm: "group" (GroupNorm with C/16 groups: from scratch) or "frozen_bn" (for pretrained weights).
    """

    out_channels = 512

    def __init__(self, norm: str = "group") -> None:
        super().__init__()
        if norm not in ("group", "frozen_bn"):
            raise ValueError(f"norm must be 'group' or 'frozen_bn', got {norm!r}")
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = _norm(norm, 64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels = 64
        for index, (out, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), start=1):
            setattr(self, f"layer{index}", nn.Sequential(_BasicBlock(channels, out, stride, norm),
                                                         _BasicBlock(out, out, 1, norm)))
            channels = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def load_torchvision_weights(model: ResNet18, path: str | os.PathLike) -> None:
    """Load a torchvision ResNet-18 state dict file (e.g. ImageNet weights the user has locally) into `model`;
    the classifier (`fc.*`) is dropped. Raises ValueError when other keys are missing or unexpected."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path}: not a torchvision ResNet-18 state dict (missing {missing[:4]}, "
                         f"unexpected {unexpected[:4]})")


class SpatialSoftmax(nn.Module):
    """Keypoints from feature maps: a 1x1 conv to K maps, each map -> its softmax-expected position (eq. 4).

    Positions are normalized to [-1, 1] (x from left to right over the width, y from top to bottom over the
    height), as in robomimic's SpatialSoftmax, instead of the paper's raw pixel indices (i, j): the same
    keypoint, on a scale independent of the feature resolution.

    Args:
        in_channels: C of the input (B, C, H, W).
        keypoints: K; None keeps C maps and skips the 1x1 conv.
        temperature: Softmax temperature.

    Shapes: (B, C, H, W) -> (B, K, 2) holding (x, y).
    """

    def __init__(self, in_channels: int, keypoints: int | None = 32, temperature: float = 1.0) -> None:
        super().__init__()
        self.keypoints = keypoints or in_channels
        self.proj = nn.Conv2d(in_channels, keypoints, 1) if keypoints else nn.Identity()
        self.temperature = temperature

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        maps = self.proj(features)
        b, k, h, w = maps.shape
        attention = torch.softmax(maps.reshape(b, k, h * w) / self.temperature, dim=-1)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, device=maps.device, dtype=maps.dtype),
                                torch.linspace(-1, 1, w, device=maps.device, dtype=maps.dtype), indexing="ij")
        grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1)  # (H*W, 2)
        return attention @ grid

    def output_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, int]:
        """(K, 2) for an input (C, H, W)."""
        return (self.keypoints, 2)
