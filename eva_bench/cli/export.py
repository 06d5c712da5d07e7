"""`eva-bench export ...`: write our data in other projects' layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import split_task_option
from eva_bench.errors import UserError

app = typer.Typer(help="Export demonstrations for other projects' training scripts.", no_args_is_help=True)
DataOption = Annotated[Path, typer.Option(help="Folder of our episode files (`eva-bench collect`), searched "
                                               "recursively.")]
TasksOption = Annotated[str | None, typer.Option(help="Comma-separated tasks (default: every task found).")]
ProgressOption = Annotated[bool, typer.Option(help="Show a progress bar.")]


def _exporting(data: Path, progress: bool, work):
    """`work(advance)` with a per-episode progress bar; missing data and bad input (ValueError, which
    CheckpointError is) become one-line user errors."""
    from tqdm import tqdm

    if not data.is_dir():
        raise UserError(f"--data: no such folder {data}")
    bar = tqdm(unit="episode", disable=not progress)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        return work(advance)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(str(error)) from None
    finally:
        bar.close()


@app.command("robotwin")
def export_robotwin_command(
    data: DataOption,
    out: Annotated[Path, typer.Option(help="Output folder: OUT/<task>/<task-config>/data/episode{i}.hdf5, as "
                                           "RoboTwin's data/ folder.")],
    tasks: TasksOption = None,
    task_config: Annotated[str, typer.Option(help="The task-config folder name RoboTwin's scripts are given.")] = (
        "demo_clean"),
    quality: Annotated[int, typer.Option(min=1, max=100, help="JPEG quality of the re-encoded frames.")] = 95,
    progress: ProgressOption = True,
) -> None:
    """Export demos in RoboTwin 2.0's layout and colour order (frames re-encoded as OpenCV stores RGB arrays),
    with their instructions and videos, so RoboTwin's own training scripts read them unchanged."""
    from eva_bench.data.export import export_robotwin

    written = _exporting(data, progress, lambda advance: export_robotwin(
        data, out, split_task_option(tasks), task_config, quality, advance))
    for task, count in written.items():
        typer.echo(f"{task}: {count} episodes -> {out / task / task_config}")


@app.command("reconstructed")
def export_reconstructed_command(
    data: DataOption,
    autoencoder: Annotated[Path, typer.Option(help="A world model's frame autoencoder (`eva-bench train vae`, or a "
                                                   "released world model's autoencoder/).")],
    out: Annotated[Path, typer.Option(help="Output folder: the same relative paths as under --data.")],
    camera: Annotated[str, typer.Option(help="Camera whose frames are replaced (the autoencoder's).")] = (
        "head_camera"),
    tasks: TasksOption = None,
    progress: ProgressOption = True,
) -> None:
    """Copy demos with the camera's frames encoded and decoded by a world model's autoencoder: what that world
    model's imagined frames look like, to fine-tune an IDM on (`eva-bench train idm --data OUT --init IDM`).
    Resumable: episodes already written are kept."""
    from eva_bench.data.export import export_reconstructed

    count = _exporting(data, progress, lambda advance: export_reconstructed(
        data, out, autoencoder, camera, split_task_option(tasks), progress=advance))
    typer.echo(f"{count} episodes -> {out}")
