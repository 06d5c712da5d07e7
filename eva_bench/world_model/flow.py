"""Flow matching for the world model: the training target, the ODE sampler and Flow-GRPO's SDE sampler with
log-probabilities (diffusion forcing form).

Convention (diffusers' `FlowMatchEulerDiscreteScheduler`, Wan, SD3): a latent at noise level sigma is
x = (1 - sigma) * clean + sigma * noise, and the network predicts the velocity v = noise - clean, so an Euler
step from sigma to sigma' is x + (sigma' - sigma) * v. Training levels are drawn uniformly and shifted,
sigma = s * u / (1 + (s - 1) * u), which spends more steps at high noise where the layout of a frame forms; the
sampler takes its levels from the diffusers scheduler with the same shift. History frames stay clean (level 0)
throughout, which is how diffusion forcing conditions on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    x = torch.randn((history.shape[0], frames, *history.shape[2:]), generator=generator).to(history)
    levels = sampling_sigmas(steps, shift).tolist()
    for sigma, following in zip(levels[:-1], levels[1:], strict=True):
        x = x + (following - sigma) * velocity_of(model, history, x, sigma, text)
    return x


# ---------------------------------------------------------------------------------------------------- SDE (GRPO)
# Flow-GRPO's sampler (paper section 4.2; Flow-GRPO's `sde_step_with_logprob`, "sde"): the reverse-time
# SDE whose marginals match the flow's, so each step is Gaussian with a known mean and std and a sampled
# trajectory can be re-scored exactly (the log-probability of a stored transition under changed weights).


def sde_step(x: torch.Tensor, velocity: torch.Tensor, sigma: float, sigma_next: float, sigma_max: float,
             noise_level: float, prev_sample: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """One SDE step of latents x (B, ...) at level sigma to sigma_next < sigma.

    Args:
        x: The current latents.
        velocity: The network's velocity at x.
        sigma, sigma_next: The step's levels.
        sigma_max: The largest level below 1 (the second sampling level): stands in for sigma = 1, where the
            std's 1 / (1 - sigma) diverges.
        noise_level: Flow-GRPO's a; 0 gives the Euler ODE step.
        prev_sample: The next latents to score instead of sampling them (re-scoring a stored transition).
        generator: Randomness of the sampled noise.

    Returns:
        (next latents, their log-probability per sample (B,) as a mean over elements, the step's mean, its
        std per unit sqrt(time) std_dev_t).
    """
    dt = sigma_next - sigma  # negative
    std = (sigma / (1 - (sigma_max if sigma >= 1 else sigma))) ** 0.5 * noise_level
    x, velocity = x.float(), velocity.float()
    mean = x * (1 + std**2 / (2 * sigma) * dt) + velocity * (1 + std**2 * (1 - sigma) / (2 * sigma)) * dt
    scale = std * (-dt) ** 0.5
    if prev_sample is None:
        noise = torch.randn(x.shape, generator=generator).to(x)
        prev_sample = mean + scale * noise
    prev_sample = prev_sample.float()
    if scale > 0:
        log_prob = (-((prev_sample.detach() - mean) ** 2) / (2 * scale**2) - math.log(scale)
                    - 0.5 * math.log(2 * math.pi))
        log_prob = log_prob.mean(dim=tuple(range(1, x.ndim)))
    else:  # deterministic: no density
        log_prob = torch.zeros(x.shape[0], device=x.device)
    return prev_sample, log_prob, mean, std


def velocity_of(model: torch.nn.Module, history: torch.Tensor, x: torch.Tensor, sigma: float,
                text: torch.Tensor) -> torch.Tensor:
    """The model's velocity of the generated latents x (B, F, C, h, w) at level sigma after the clean history."""
    b, h = history.shape[:2]
    sigmas = torch.cat([torch.zeros(b, h), torch.full((b, x.shape[1]), float(sigma))], dim=1).to(history)
    return model(torch.cat([history, x.to(history)], dim=1), sigmas, text)[:, h:]


@dataclass
class Trajectory:
    """A sampled SDE trajectory: latents (B, steps + 1, F, C, h, w) from noise to clean, the log-probability of
    each transition (B, steps) and the levels (steps + 1,)."""

    latents: torch.Tensor
    log_probs: torch.Tensor
    sigmas: torch.Tensor

    @property
    def final(self) -> torch.Tensor:
        return self.latents[:, -1]


@torch.no_grad()
def generate_with_logprob(model: torch.nn.Module, history: torch.Tensor, frames: int, text: torch.Tensor,
                          steps: int = 10, shift: float = DEFAULT_SHIFT, noise_level: float = 0.7,
                          generator: torch.Generator | None = None) -> Trajectory:
    """Latent frames continuing `history` (B, H, C, h, w) by the SDE, with every step's latents and
    log-probability (deterministic given `generator`; noise_level 0 is the ODE sampler `generate`)."""
    b = history.shape[0]
    x = torch.randn((b, frames, *history.shape[2:]), generator=generator).to(history)
    levels = sampling_sigmas(steps, shift)
    latents, log_probs = [x], []
    for k in range(steps):
        sigma, following = float(levels[k]), float(levels[k + 1])
        velocity = velocity_of(model, history, x, sigma, text)
        x, log_prob, _, _ = sde_step(x, velocity, sigma, following, float(levels[1]), noise_level,
                                     generator=generator)
        x = x.to(history)
        latents.append(x)
        log_probs.append(log_prob)
    return Trajectory(torch.stack(latents, 1), torch.stack(log_probs, 1), levels)


def transition_log_prob(model: torch.nn.Module, history: torch.Tensor, trajectory: Trajectory, step: int,
                        text: torch.Tensor, noise_level: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(log-probability (B,), mean, std_dev_t) of the stored transition `step` of `trajectory` under `model`
    as it is now (with gradients): the ratio GRPO optimizes."""
    sigmas = trajectory.sigmas
    x, following = trajectory.latents[:, step], trajectory.latents[:, step + 1]
    velocity = velocity_of(model, history, x, float(sigmas[step]), text)
    _, log_prob, mean, std = sde_step(x, velocity, float(sigmas[step]), float(sigmas[step + 1]), float(sigmas[1]),
                                      noise_level, prev_sample=following)
    return log_prob, mean, std
