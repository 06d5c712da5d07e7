"""Training ACT on expert demonstrations (`eva-bench train act`), on the shared trainer (`eva_bench.training`).

A sample (policies/chunk_training.py) is an (episode, t) of the training episodes: the cameras' frames of row t,
the state (row t's joint vector) and the target chunk, rows t+1 .. t+chunk (the commands that follow the
observation), padded with the last row past the episode's end and masked in the loss. RoboTwin's protocol
trains one model per task on 50 demos (`tasks` = one task); `multi_task` trains one task-conditioned model on
several. Held out: whole episodes (`holdout`), scored by the L1 error of the first action of each chunk and of
the whole chunk (rad).
"""

from __future__ import annotations

import torch
from eva_bench.policies.act.config import ACTTrainConfig
from eva_bench.policies.act.model import ACT
from eva_bench.policies.chunk_training import ChunkPolicyTraining

from eva_bench.training import fit


class ACTTraining(ChunkPolicyTraining):
    """ACT's part of a training run (module docstring)."""

    kind = "act"
    label = "ACT"
    eval_columns = {"val_l1": ".5f", "val_first_mae": ".5f", "val_chunk_mae": ".5f"}

    def sample_layout(self, kwargs: dict) -> dict:
        return {"cameras": kwargs["cameras"], "size": (kwargs["width"], kwargs["height"]), "history": 1,
                "chunk_start": 0, "chunk": kwargs["chunk"]}

    def build_model(self) -> ACT:
        model = ACT(**self.kwargs)
        if self.config.resnet_weights:
            from eva_bench.vision import load_torchvision_weights

            load_torchvision_weights(model.backbone, self.config.resnet_weights)
        return model

    def build_optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        backbone = [p for n, p in model.named_parameters() if n.startswith("backbone.") and p.requires_grad]
        rest = [p for n, p in model.named_parameters() if not n.startswith("backbone.") and p.requires_grad]
        groups = [{"params": rest}, {"params": backbone, "lr_scale": self.config.backbone_lr_scale}]
        return torch.optim.AdamW(groups, lr=lr, weight_decay=self.config.weight_decay)

    def loss(self, model: torch.nn.Module, batch: dict) -> torch.Tensor:
        loss, _ = self.unwrap(model).loss(batch["frames"][:, :, 0], batch["states"][:, 0], batch["actions"],
                                          batch["is_pad"], batch["task"], self.config.kl_weight)
        return loss

    @torch.no_grad()
    def evaluate(self, model: ACT, final: bool) -> dict | None:
        if self.val_data is None:
            return None
        batches, count = self.val_batches(final)
        was_training = model.training
        model.eval()
        l1, first, whole = [], [], []
        for batch in batches:
            predicted, _ = model(batch["frames"][:, :, 0], batch["states"][:, 0], batch["task"])
            target = (batch["actions"] - model.action_mean) / model.action_std
            keep = ~batch["is_pad"]
            l1.append((predicted - target).abs()[keep].mean(-1))
            joints = predicted * model.action_std + model.action_mean
            error = (joints - batch["actions"]).abs()
            first.append(error[:, 0].mean(-1))
            whole.append(error[keep].mean(-1))
        model.train(was_training)
        return {"val_l1": float(torch.cat(l1).mean()), "val_first_mae": float(torch.cat(first).mean()),
                "val_chunk_mae": float(torch.cat(whole).mean()), "samples": count}


def train_act(config: ACTTrainConfig, progress: bool = True, stop_after: int | None = None):
    """Train (or resume) an ACT as `config` says; returns the trainer's `FitResult`."""
    return fit(ACTTraining(config), config.trainer_config(), progress=progress, stop_after=stop_after)
