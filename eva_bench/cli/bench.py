"""`eva-bench bench ...`: performance measurements on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench import paths
from eva_bench.cli.common import split_tasks

app = typer.Typer(help="Measure performance on this machine (simulation, IDM, world model, GRPO, ACT).",
                  no_args_is_help=True)


def _check_preset(preset: str) -> None:
    from eva_bench.world_model.presets import PRESETS

    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset; presets: {sorted(PRESETS)}", param_hint="--preset")


@app.command("sim")
def bench_sim(
    task: Annotated[str, typer.Option(help="Task whose scene is measured.")] = "click_bell",
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 0,
    expert_tasks: Annotated[
        str, typer.Option(help="Comma-separated tasks whose expert episode is timed ('all' for every task).")
    ] = "click_bell,place_container_plate,handover_block",
) -> None:
    """Physics steps/s, rendered frames/s per camera setup, and expert episodes' wall time."""
    import os
    import platform

    from eva_bench.bench import bench_sim as measure
    from eva_bench.doctor import require_rendering

    require_rendering()
    typer.echo(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    for metric, value in measure(task, seed, expert_tasks=tuple(split_tasks(expert_tasks))):
        typer.echo(f"{metric:66s} {value}")


@app.command("idm")
def bench_idm(
    checkpoint: Annotated[Path | None, typer.Option(help="IDM checkpoint (default: the released one).")] = None,
    threads: Annotated[int, typer.Option(min=1, help="Torch CPU threads.")] = 1,
    frames: Annotated[int, typer.Option(min=8, help="Frames per decoded video.")] = 256,
) -> None:
    """IDM inference throughput (frames/s of decoding a video into actions) on this machine's CPU."""
    from eva_bench.bench import bench_idm as measure

    for metric, value in measure(str(checkpoint or paths.released_idm_dir()), frames, threads=threads):
        typer.echo(f"{metric:40s} {value}")


@app.command("wm")
def bench_wm(
    preset: Annotated[str, typer.Option(help="World-model preset.")] = "tiny",
    idm: Annotated[Path | None, typer.Option(help="IDM that decodes the segment (default: the released one).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Clips per SFT step.")] = 8,
    sample_steps: Annotated[int, typer.Option(min=1, help="ODE steps per imagined segment.")] = 10,
    threads: Annotated[int, typer.Option(min=1, help="Torch CPU threads.")] = 1,
) -> None:
    """World-model costs: seconds per SFT step, per imagined 16-frame segment and per IDM decoding of it (what
    `eva-norl` pays per segment), and the peak memory."""
    from eva_bench.bench import bench_world_model as measure

    _check_preset(preset)
    rows = measure(str(idm or paths.released_idm_dir()), preset, batch_size, sample_steps, threads=threads)
    for metric, value in rows:
        typer.echo(f"{metric:52s} {value}")


@app.command("grpo")
def bench_grpo(
    preset: Annotated[str, typer.Option(help="World-model preset.")] = "tiny",
    idm: Annotated[Path | None, typer.Option(help="Reward IDM (default: the released one).")] = None,
    group_size: Annotated[int, typer.Option(min=2, help="Rollouts per prompt (G).")] = 8,
    sample_steps: Annotated[int, typer.Option(min=1, help="SDE steps per rollout.")] = 10,
    threads: Annotated[int, typer.Option(min=1, help="Torch CPU threads.")] = 1,
) -> None:
    """Seconds per Flow-GRPO iteration (one prompt, G rollouts) and the share of sampling, reward and update."""
    from eva_bench.bench import bench_grpo as measure

    _check_preset(preset)
    trained = max(1, int(sample_steps * 0.9))
    for metric, value in measure(str(idm or paths.released_idm_dir()), preset, group_size, sample_steps, trained,
                                 threads=threads):
        typer.echo(f"{metric:60s} {value}")


@app.command("act")
def bench_act(
    preset: Annotated[str, typer.Option(help="ACT preset (tiny, robotwin).")] = "tiny",
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per training step.")] = 8,
    threads: Annotated[int, typer.Option(min=1, help="Torch CPU threads.")] = 1,
) -> None:
    """ACT costs: seconds per training step, per policy query (one per control step with temporal
    aggregation), and the peak memory."""
    from eva_bench.bench import bench_act as measure
    from eva_bench.policies.act.config import PRESETS

    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset; presets: {sorted(PRESETS)}", param_hint="--preset")
    for metric, value in measure(preset, batch_size, threads=threads):
        typer.echo(f"{metric:40s} {value}")


@app.command("dp")
def bench_dp(
    preset: Annotated[str, typer.Option(help="DP preset (tiny, robotwin).")] = "tiny",
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per training step.")] = 8,
    threads: Annotated[int, typer.Option(min=1, help="Torch CPU threads.")] = 1,
) -> None:
    """Diffusion Policy costs: seconds per training step, per policy query (one sampled chunk) and per control
    step, and the peak memory."""
    from eva_bench.bench import bench_dp as measure
    from eva_bench.policies.dp.config import PRESETS

    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset; presets: {sorted(PRESETS)}", param_hint="--preset")
    for metric, value in measure(preset, batch_size, threads=threads):
        typer.echo(f"{metric:40s} {value}")
