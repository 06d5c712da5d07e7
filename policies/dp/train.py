"""Training Diffusion Policy on expert demonstrations (`eva-bench train dp`), on the shared trainer.

A sample (policies/chunk_training.py) is an (episode, t): the head camera's frames and the joint states of rows
t - n_obs + 1 .. t, and the chunk of `horizon` commands that follow the state rows t - n_obs + 1 ..
(RoboTwin's "state = row t, action = row t + 1"; edges repeated). The loss is DDPM's epsilon MSE. As RoboTwin's
DP, the run keeps an EMA of the weights (decay 1 - (1 + step) ** -0.75, at most 0.9999), which is what is
evaluated and exported. Held out: whole episodes, scored by the epsilon loss at fixed noise and by the error of
sampled chunks (the model's default sampler) on the executed rows (rad).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from eva_bench.policies.chunk_training import ChunkPolicyTraining
from eva_bench.policies.dp.config import DPTrainConfig
from eva_bench.policies.dp.model import DiffusionPolicy
from torch import nn

from eva_bench.training import fit


class EMATrainee(nn.Module):
    """The trained policy and its exponential moving average (not trained: no gradients), one module so that
    the trainer's checkpoints hold both."""

    def __init__(self, policy: DiffusionPolicy, ema: bool) -> None:
        super().__init__()
        self.policy = policy
        self.ema = copy.deepcopy(policy).requires_grad_(False) if ema else None

    def set_stats(self, states, actions) -> None:
        for model in (self.policy, self.ema):
            if model is not None:
                model.set_stats(states, actions)

    @torch.no_grad()
    def update_ema(self, step: int, power: float, highest: float) -> None:
        """Move the average toward the weights by the decay of optimizer step `step` (0-based); buffers copied."""
        if self.ema is None:
            return
        decay = min(max(1 - (1 + step) ** -power, 0.0), highest)
        for average, weight in zip(self.ema.parameters(), self.policy.parameters(), strict=True):
            average.lerp_(weight, 1 - decay)
        for average, value in zip(self.ema.buffers(), self.policy.buffers(), strict=True):
            average.copy_(value)

    def exported(self) -> DiffusionPolicy:
        """The model to evaluate and export: the average when kept."""
        return self.ema if self.ema is not None else self.policy


class DPTraining(ChunkPolicyTraining):
    """DP's part of a training run (module docstring)."""

    kind = "dp"
    label = "DP"
    eval_columns = {"val_mse": ".5f", "val_first_mae": ".5f", "val_chunk_mae": ".5f"}

    def sample_layout(self, kwargs: dict) -> dict:
        return {"cameras": [kwargs["camera"]], "size": (kwargs["width"], kwargs["height"]),
                "history": kwargs["n_obs"], "chunk_start": 1 - kwargs["n_obs"], "chunk": kwargs["horizon"]}

    def build_model(self) -> EMATrainee:
        return EMATrainee(DiffusionPolicy(**self.kwargs), self.config.ema)

    def build_optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                                 betas=self.config.betas, weight_decay=self.config.weight_decay)

    def loss(self, model: nn.Module, batch: dict) -> torch.Tensor:
        return self.unwrap(model).policy.loss(batch["frames"][:, 0], batch["states"], batch["actions"],
                                              batch["task"])

    def after_step(self, model: EMATrainee, step: int) -> None:
        model.update_ema(step, self.config.ema_power, self.config.ema_max)

    @torch.no_grad()
    def evaluate(self, model: EMATrainee, final: bool) -> dict | None:
        if self.val_data is None:
            return None
        policy = model.exported()
        was_training = policy.training
        policy.eval()
        batches, count = self.val_batches(final)
        generator = torch.Generator().manual_seed(0)  # the same noise at every evaluation
        start, rows = policy.config["n_obs"] - 1, policy.config["n_action"]
        mse, first, whole = [], [], []
        for batch in batches:
            frames, states, actions = batch["frames"][:, 0], batch["states"], batch["actions"]
            mse.append(policy.loss(frames, states, actions, batch["task"], generator=generator, reduce=False))
            sampled = policy.sample(frames, states, batch["task"], generator=generator)
            error = (sampled - actions).abs()[:, start:start + rows]
            keep = ~batch["is_pad"][:, start:start + rows]
            first.append(error[:, 0].mean(-1))
            whole.append(error[keep].mean(-1))
        policy.train(was_training)
        return {"val_mse": float(torch.cat(mse).mean()), "val_first_mae": float(torch.cat(first).mean()),
                "val_chunk_mae": float(torch.cat(whole).mean()), "samples": count}

    def export(self, model: EMATrainee, folder: Path, step: int) -> None:
        super().export(model.exported(), folder, step)


def train_dp(config: DPTrainConfig, progress: bool = True, stop_after: int | None = None):
    """Train (or resume) a Diffusion Policy as `config` says; returns the trainer's `FitResult`."""
    return fit(DPTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
