"""Flow matching for the world model: the training target and the ODE sampler (diffusion forcing form).

Convention (diffusers' `FlowMatchEulerDiscreteScheduler`, Wan, SD3): a latent at noise level sigma is
x = (1 - sigma) * clean + sigma * noise, and the network predicts the velocity v = noise - clean, so an Euler
step from sigma to sigma' is x + (sigma' - sigma) * v. Training levels are drawn uniformly and shifted,
sigma = s * u / (1 + (s - 1) * u), which spends more steps at high noise where the layout of a frame forms; the
sampler takes its levels from the diffusers scheduler with the same shift. History frames stay clean (level 0)
throughout, which is how diffusion forcing conditions on them.
"""

from __future__ import annotations

import torch

DEFAULT_SHIFT = 3.0


def shift_sigmas(u: torch.Tensor, shift: float = DEFAULT_SHIFT) -> torch.Tensor:
    """Uniform levels u in [0, 1] moved toward 1 by `shift` (1: unchanged)."""
    return shift * u / (1 + (shift - 1) * u)


def add_noise(clean: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Latents (B, F, C, h, w) at per-frame levels sigmas (B, F)."""
    s = sigmas[:, :, None, None, None]
    return (1 - s) * clean + s * noise


def training_example(clean: torch.Tensor, history: int, noise: torch.Tensor, u: torch.Tensor,
                     shift: float = DEFAULT_SHIFT) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A diffusion-forcing example of clips (B, F, C, h, w): the first `history` frames clean, the others noised
    at one level per clip.

    Args:
        clean: The clips.
        history: Clean frames at the start of each clip.
        noise: Gaussian noise of the clips' shape.
        u: (B,) uniform draws in [0, 1], shifted into each clip's level.
        shift: The level shift (`shift_sigmas`).

    Returns:
        (noisy latents (B, F, C, h, w), levels (B, F), the velocity target of the noised frames
        (B, F - history, C, h, w)).
    """
    b, f = clean.shape[:2]
    if not 0 <= history < f:
        raise ValueError(f"history must leave frames to generate: 0 <= history < {f}, got {history}")
    sigmas = torch.zeros(b, f, dtype=clean.dtype, device=clean.device)
    sigmas[:, history:] = shift_sigmas(u, shift).to(clean)[:, None]
    target = (noise - clean)[:, history:]
    return add_noise(clean, noise, sigmas), sigmas, target


def sampling_sigmas(steps: int, shift: float = DEFAULT_SHIFT) -> torch.Tensor:
    """The `steps` + 1 noise levels (from 1 down to 0) of the diffusers Euler scheduler with `shift`."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    scheduler = FlowMatchEulerDiscreteScheduler(shift=shift)
    scheduler.set_timesteps(steps)
    return scheduler.sigmas.float()


@torch.no_grad()
def generate(model: torch.nn.Module, history: torch.Tensor, frames: int, text: torch.Tensor, steps: int = 10,
             shift: float = DEFAULT_SHIFT, generator: torch.Generator | None = None) -> torch.Tensor:
    """Latent frames (B, frames, C, h, w) that continue the clean `history` (B, H, C, h, w), by the Euler ODE.

    Deterministic given `generator` (the initial noise is its only randomness).
    """
    b, h = history.shape[:2]
    x = torch.randn((b, frames, *history.shape[2:]), generator=generator).to(history)
    levels = sampling_sigmas(steps, shift).to(history)
    for sigma, following in zip(levels[:-1], levels[1:], strict=True):
        sigmas = torch.cat([torch.zeros(b, h), torch.full((b, frames), float(sigma))], dim=1).to(history)
        velocity = model(torch.cat([history, x], dim=1), sigmas, text)[:, h:]
        x = x + (following - sigma) * velocity
    return x
