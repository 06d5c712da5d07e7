"""A minimal `TrainTask`: linear regression on synthetic data, the smallest complete use of the trainer.

It is the worked example of the interface (docs/training.md) and the model of the multi-process smoke test:

    accelerate launch --multi_gpu --num_processes 2 -m eva_bench.training.toy --out /tmp/toy --steps 20 --device cpu

The data is y = x . w* + 0.1 noise with x ~ N(0, I_8), 256 training and 64 held-out samples drawn from
`data_seed`; the model is one `nn.Linear(8, 1)`; the checkpoint is an eva-bench checkpoint of kind "toy".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from eva_bench.checkpoint import make_provenance, write_checkpoint
from eva_bench.training.config import TrainerConfig
from eva_bench.training.task import TrainTask
from eva_bench.training.trainer import FitResult, fit


class ToyRegression(TrainTask):
    """y = x . w* + noise, fitted by one linear layer.

    Args:
        features: Size of x.
        samples: Training samples (64 more are held out).
        data_seed: Seed of the synthetic data.
    """

    kind = "toy"
    eval_columns = {"val_loss": ".6f"}

    def __init__(self, features: int = 8, samples: int = 256, data_seed: int = 0) -> None:
        self.features, self.samples, self.data_seed = features, samples, data_seed

    def settings(self) -> dict:
        return {"features": self.features, "samples": self.samples, "data_seed": self.data_seed}

    def setup(self) -> None:
        rng = np.random.default_rng(self.data_seed)
        weights = rng.normal(size=(self.features, 1))
        x = rng.normal(size=(self.samples + 64, self.features))
        y = x @ weights + 0.1 * rng.normal(size=(len(x), 1))
        self.x, self.y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

    @property
    def num_samples(self) -> int:
        return self.samples

    def build_model(self) -> torch.nn.Module:
        return torch.nn.Linear(self.features, 1)

    def batch(self, step: int, indices: np.ndarray, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.from_numpy(indices)
        return self.x[index], self.y[index]

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return ((model(x) - y) ** 2).mean()

    def evaluate(self, model: torch.nn.Module, final: bool) -> dict:
        device = next(model.parameters()).device
        x, y = self.x[self.samples:].to(device), self.y[self.samples:].to(device)
        return {"val_loss": float(((model(x) - y) ** 2).mean())}

    def export(self, model: torch.nn.Module, folder: Path, step: int) -> None:
        write_checkpoint(folder, self.kind, {"features": self.features}, model.state_dict(),
                         make_provenance(data={"synthetic": "toy regression", "data_seed": self.data_seed},
                                         step=step))


def main(argv: list[str] | None = None) -> FitResult:
    """Train the toy model from the command line (under `accelerate launch` too)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    config = TrainerConfig(out=args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                           warmup=args.warmup, seed=args.seed, eval_every=args.eval_every,
                           checkpoint_every=args.eval_every, grad_accum=args.grad_accum, threads=args.threads,
                           device=args.device)
    return fit(ToyRegression(), config, progress=False)


if __name__ == "__main__":
    main()
