"""`eva-bench reward ...`: the IDM executability reward (calibration of P0)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import split_task_option

app = typer.Typer(help="The IDM executability reward.", no_args_is_help=True)


@app.command("calibrate")
def reward_calibrate(
    data: Annotated[Path, typer.Option(help="Folder of episode files whose action sequences set P0.")],
    out: Annotated[Path, typer.Option(help="Reward config JSON to write.")],
    checkpoint: Annotated[Path | None, typer.Option(help="IDM checkpoint: decode the episodes' videos with it "
                                                          "instead of using their recorded actions.")] = None,
    camera: Annotated[str | None, typer.Option(help="Camera decoded by the IDM (default: the camera it was "
                                                    "trained on).")] = None,
    tasks: Annotated[str | None, typer.Option(help="Comma-separated tasks (default: all found).")] = None,
    base: Annotated[Path | None, typer.Option(help="Reward config JSON to take the other constants from.")] = None,
    quantile: Annotated[float, typer.Option(help="Quantile of the penalties that becomes P0 (median: 0.5).")] = 0.5,
    limit: Annotated[int, typer.Option(min=0, help="Use at most this many episodes, evenly spread over the "
                                                   "sorted files (so over tasks); 0: all.")] = 0,
) -> None:
    """Set the reward's P0 from the action sequences of episode files and print the penalty statistics."""
    import numpy as np

    from eva_bench.data.dataset import find_episodes
    from eva_bench.data.episode import read_episode
    from eva_bench.idm.reward import RewardConfig, calibrate

    paths = find_episodes(data, split_task_option(tasks))
    if limit and len(paths) > limit:
        paths = [paths[int(i)] for i in np.linspace(0, len(paths) - 1, limit).round()]
    config = RewardConfig.load(base) if base else RewardConfig()
    if checkpoint is None:
        sequences = [read_episode(p, cameras=[]).vector for p in paths]
        source = "recorded actions"
    else:
        from eva_bench.idm.scoring import RewardScorer

        scorer = RewardScorer.load(checkpoint)
        camera = camera or scorer.source.camera
        sequences = []
        with typer.progressbar(paths, label="decoding") as bar:
            for path in bar:
                sequences.append(scorer.decode(read_episode(path, [camera]).cameras[camera].frames()))
        source = f"IDM {checkpoint} on {camera}"
    result = calibrate(sequences, config, quantile)
    result.config.save(out)
    typer.echo(f"{len(sequences)} sequences ({source}), {sum(len(s) for s in sequences)} actions")
    for key, value in result.summary().items():
        typer.echo(f"  {key:12s} {value:.6g}")
    components = [calibrate_components(s, result.config) for s in sequences]
    typer.echo("median weighted terms: " + ", ".join(
        f"{k} {np.median([c[k] for c in components]):.4g}" for k in components[0]))
    typer.echo(f"wrote {out}")


def calibrate_components(actions, config) -> dict[str, float]:
    """The four weighted penalty terms of one sequence (for the statistics `reward calibrate` prints)."""
    from eva_bench.idm.reward import executability

    b = executability(actions, config)
    return {"vel_limit": b.vel_limit, "acc_limit": b.acc_limit, "acc_huber": b.acc_huber, "jerk_huber": b.jerk_huber}
