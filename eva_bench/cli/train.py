"""`eva-bench train ...`: train models (the IDM today) on the shared trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import split_task_option
from eva_bench.errors import UserError

app = typer.Typer(help="Train models.", no_args_is_help=True)


def _resolution(text: str | None) -> tuple[int, int] | None:
    from eva_bench.sim.cameras import parse_resolution  # imports SAPIEN: not at CLI start-up

    if text is None:
        return None
    try:
        return parse_resolution(text)
    except ValueError as error:
        raise UserError(f"--resolution: {error}") from None


@app.command("idm")
def train_idm(
    data: Annotated[Path, typer.Option(help="Folder of episode files (ours or RoboTwin 2.0's).")],
    out: Annotated[Path, typer.Option(help="Checkpoint folder; a run already there is resumed.")],
    preset: Annotated[str, typer.Option(help="Model size: tiny (CPU) or paper (the paper's shapes).")] = "tiny",
    pooling: Annotated[str, typer.Option(help="spatial_softmax (the paper's IDM) or avg (Table S2 ablation).")] = (
        "spatial_softmax"
    ),
    steps: Annotated[int, typer.Option(min=1, help="Optimizer steps in total.")] = 2000,
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per step.")] = 32,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-3,
    context: Annotated[int, typer.Option(min=0, help="k: the model sees frames t-k .. t+k.")] = 2,
    resolution: Annotated[str | None, typer.Option(help="WIDTHxHEIGHT of the model input (default: preset's).")] = (
        None
    ),
    camera: Annotated[str, typer.Option(help="Camera whose frames are used.")] = "head_camera",
    tasks: Annotated[str | None, typer.Option(help="Comma-separated tasks to train on (default: all found).")] = None,
    holdout: Annotated[float, typer.Option(help="Fraction of episodes held out for evaluation.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of initialization, data order and augmentation.")] = 0,
    eval_every: Annotated[int, typer.Option(min=1, help="Steps between held-out evaluations.")] = 250,
    checkpoint_every: Annotated[int, typer.Option(min=1, help="Steps between checkpoints.")] = 250,
    threads: Annotated[int, typer.Option(min=0, help="Torch CPU threads (0: torch's default).")] = 0,
    cache_mb: Annotated[int, typer.Option(min=0, help="Memory for decoded frames in MiB (all 21 tasks x 50 "
                                                      "episodes at 160x120: about 8,200).")] = 2048,
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda, cuda:1, ...")] = "cpu",
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train the inverse dynamics model on episode files (resumable: run again with the same --out)."""
    from eva_bench.idm.train import TrainConfig, train

    if pooling not in ("spatial_softmax", "avg"):
        raise UserError(f"--pooling must be spatial_softmax or avg, got {pooling!r}")
    config = TrainConfig(
        data=str(data), out=str(out), preset=preset, pooling=pooling, context=context,
        resolution=_resolution(resolution), camera=camera, tasks=split_task_option(tasks), holdout=holdout, seed=seed,
        steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every, checkpoint_every=checkpoint_every,
        threads=threads, device=device, cache_mb=cache_mb,
    )
    result = train(config, progress=progress)
    typer.echo(f"step {result.step}/{config.steps}, {result.samples_per_s:.1f} samples/s -> {result.out}")
    if result.metrics is None:
        typer.echo("no held-out episode: no test metrics (use more episodes or --holdout)")
        return
    m = result.metrics
    typer.echo(f"held-out: {m['samples']} samples, accuracy (|error| <= 0.05) {m['accuracy']:.4f}, "
               f"mean MAE {m['mae_mean']:.4f}")
    names = [f"{arm}_{j}" for arm in ("left", "right") for j in (*(f"j{i}" for i in range(1, 7)), "gripper")]
    typer.echo("  ".join(f"{n}={v:.3f}" for n, v in zip(names, m["mae"], strict=True)))


