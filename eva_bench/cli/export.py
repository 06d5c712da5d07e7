"""`eva-bench export ...`: write our data in other projects' layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import split_task_option
from eva_bench.errors import UserError

app = typer.Typer(help="Export demonstrations for other projects' training scripts.", no_args_is_help=True)


@app.command("robotwin")
def export_robotwin_command(
    data: Annotated[Path, typer.Option(help="Folder of our episode files (`eva-bench collect`), searched "
                                            "recursively.")],
    out: Annotated[Path, typer.Option(help="Output folder: OUT/<task>/<task-config>/data/episode{i}.hdf5, as "
                                           "RoboTwin's data/ folder.")],
    tasks: Annotated[str | None, typer.Option(help="Comma-separated tasks (default: every task found).")] = None,
    task_config: Annotated[str, typer.Option(help="The task-config folder name RoboTwin's scripts are given.")] = (
        "demo_clean"),
    quality: Annotated[int, typer.Option(min=1, max=100, help="JPEG quality of the re-encoded frames.")] = 95,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Export demos in RoboTwin 2.0's layout and colour order (frames re-encoded as OpenCV stores RGB arrays),
    with their instructions and videos, so RoboTwin's own training scripts read them unchanged."""
    from tqdm import tqdm

    from eva_bench.data.export import export_robotwin

    if not data.is_dir():
        raise UserError(f"--data: no such folder {data}")
    bar = tqdm(unit="episode", disable=not progress)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        written = export_robotwin(data, out, split_task_option(tasks), task_config, quality, advance)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(str(error)) from None
    finally:
        bar.close()
    for task, count in written.items():
        typer.echo(f"{task}: {count} episodes -> {out / task / task_config}")


@app.command("reconstructed")
def export_reconstructed_command(
    data: Annotated[Path, typer.Option(help="Folder of our episode files (`eva-bench collect`), searched "
                                            "recursively.")],
    autoencoder: Annotated[Path, typer.Option(help="A world model's frame autoencoder (`eva-bench train vae`, or a "
                                                   "released world model's autoencoder/).")],
    out: Annotated[Path, typer.Option(help="Output folder: the same relative paths as under --data.")],
    camera: Annotated[str, typer.Option(help="Camera whose frames are replaced (the autoencoder's).")] = (
        "head_camera"),
    tasks: Annotated[str | None, typer.Option(help="Comma-separated tasks (default: every task found).")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Copy demos with the camera's frames encoded and decoded by a world model's autoencoder: what that world
    model's imagined frames look like, to fine-tune an IDM on (`eva-bench train idm --data OUT --init IDM`).
    Resumable: episodes already written are kept."""
    from tqdm import tqdm

    from eva_bench.checkpoint import CheckpointError
    from eva_bench.data.export import export_reconstructed

    if not data.is_dir():
        raise UserError(f"--data: no such folder {data}")
    bar = tqdm(unit="episode", disable=not progress)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        count = export_reconstructed(data, out, autoencoder, camera, split_task_option(tasks), progress=advance)
    except (FileNotFoundError, ValueError, CheckpointError) as error:
        raise UserError(str(error)) from None
    finally:
        bar.close()
    typer.echo(f"{count} episodes -> {out}")
