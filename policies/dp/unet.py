"""The conditional 1-D UNet of Diffusion Policy (Chi et al., 2023): noisy action chunk -> predicted noise.

The chunk (B, horizon, action_dim) is convolved along time. Each residual block is conditioned by FiLM on one
vector (the diffusion step's sinusoidal embedding, passed through an MLP, concatenated with the observation
features): the condition gives a per-channel scale and bias applied after the block's first convolution. Down
path: two residual blocks per level then a stride-2 convolution (not after the last level); two middle blocks;
up path: the skip connection of the level concatenated, two residual blocks, a transposed convolution; a final
convolution back to the action dimension. The horizon must be divisible by 2 ** (levels - 1). RoboTwin's DP:
levels 256-512-1024, kernel 5, 8 groups, step embedding 128.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_embedding(steps: torch.Tensor, channels: int) -> torch.Tensor:
    """(B,) diffusion steps -> (B, channels): [sin, cos] of the step at geometric frequencies."""
    half = channels // 2
    scale = torch.exp(torch.arange(half, device=steps.device, dtype=torch.float32) * -(math.log(10000) / (half - 1)))
    angles = steps.float()[:, None] * scale[None]
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class ConvBlock(nn.Sequential):
    """Conv1d -> GroupNorm -> Mish, length preserved."""

    def __init__(self, c_in: int, c_out: int, kernel: int, groups: int) -> None:
        super().__init__(nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2), nn.GroupNorm(groups, c_out), nn.Mish())


class FiLMResidualBlock(nn.Module):
    """Two `ConvBlock`s; the condition scales and shifts the first one's output per channel (FiLM)."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int, kernel: int, groups: int) -> None:
        super().__init__()
        self.first = ConvBlock(c_in, c_out, kernel, groups)
        self.second = ConvBlock(c_out, c_out, kernel, groups)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * c_out))
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, bias = self.film(cond)[:, :, None].chunk(2, dim=1)
        return self.second(self.first(x) * scale + bias) + self.skip(x)


class ConditionalUnet1D(nn.Module):
    """(noisy chunk (B, T, A), diffusion steps (B,), condition (B, cond_dim)) -> (B, T, A).

    Args:
        action_dim: A.
        cond_dim: Size of the observation condition.
        down_dims: Channels of each level (RoboTwin: 256, 512, 1024).
        kernel: Convolution kernel size (5).
        groups: GroupNorm groups (8).
        step_dim: Size of the diffusion-step embedding (128).
    """

    def __init__(self, action_dim: int, cond_dim: int, down_dims=(256, 512, 1024), kernel: int = 5,
                 groups: int = 8, step_dim: int = 128) -> None:
        super().__init__()
        self.step_dim = step_dim
        self.step_mlp = nn.Sequential(nn.Linear(step_dim, 4 * step_dim), nn.Mish(), nn.Linear(4 * step_dim, step_dim))
        cond = step_dim + cond_dim
        dims = [action_dim, *down_dims]
        levels = list(zip(dims[:-1], dims[1:], strict=True))
        self.down = nn.ModuleList()
        for index, (c_in, c_out) in enumerate(levels):
            last = index == len(levels) - 1
            self.down.append(nn.ModuleList([
                FiLMResidualBlock(c_in, c_out, cond, kernel, groups),
                FiLMResidualBlock(c_out, c_out, cond, kernel, groups),
                nn.Identity() if last else nn.Conv1d(c_out, c_out, 3, 2, 1)]))
        middle = down_dims[-1]
        self.middle = nn.ModuleList([FiLMResidualBlock(middle, middle, cond, kernel, groups) for _ in range(2)])
        self.up = nn.ModuleList()
        for c_in, c_out in reversed(levels[1:]):  # each undoes one downsampling
            self.up.append(nn.ModuleList([
                FiLMResidualBlock(2 * c_out, c_in, cond, kernel, groups),
                FiLMResidualBlock(c_in, c_in, cond, kernel, groups),
                nn.ConvTranspose1d(c_in, c_in, 4, 2, 1)]))
        self.final = nn.Sequential(ConvBlock(down_dims[0], down_dims[0], kernel, groups),
                                   nn.Conv1d(down_dims[0], action_dim, 1))

    def forward(self, sample: torch.Tensor, steps: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        condition = torch.cat([self.step_mlp(sinusoidal_embedding(steps, self.step_dim)), cond], dim=-1)
        x = sample.transpose(1, 2)  # (B, A, T)
        skips = []
        for first, second, downsample in self.down:
            x = second(first(x, condition), condition)
            skips.append(x)
            x = downsample(x)
        for block in self.middle:
            x = block(x, condition)
        for first, second, upsample in self.up:
            x = torch.cat([x, skips.pop()], dim=1)
            x = upsample(second(first(x, condition), condition))
        return self.final(x).transpose(1, 2)
