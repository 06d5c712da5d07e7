"""The `eva-bench` command line: parses, calls library functions, prints. No logic of its own.

One module per command group (`tasks`, `policies`, `results`, `report`, `bench`, `train`, `reward`, `export`), one for
the top-level `run` / `collect`, one each for `imagine` and `compare`; `common` holds what they share. Every
failure the user can cause (unknown task or policy, bad flag values, an unreadable database, a run id resumed
with other settings) ends with a one-line `error:` message and exit status 2; nothing is written then. Modules
import heavy libraries (SAPIEN, torch) inside the commands, so `eva-bench --help` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from eva_bench.cli import bench, compare, export, imagine, policies, report, results, reward, run, tasks, train
from eva_bench.errors import ProtocolError, RenderingUnavailableError, UserError

app = typer.Typer(
    help="Benchmark harness for Executable Video Alignment (EVA) on RoboTwin 2.0-style bimanual tasks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run.run)
app.command()(run.collect)
app.command()(imagine.imagine)
app.command()(compare.compare)
for _module, _name in ((tasks, "tasks"), (policies, "policies"), (results, "results"), (bench, "bench"),
                       (report, "report"), (train, "train"), (reward, "reward"), (export, "export")):
    app.add_typer(_module.app, name=_name)


@app.command()
def doctor() -> None:
    """Report the render device, driver and package versions, and how to fix a missing Vulkan driver."""
    from eva_bench.doctor import report as doctor_report

    ok, lines = doctor_report()
    for line in lines:
        typer.echo(line)
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    """Console entry point: runs the app and turns user errors into one-line messages."""
    from eva_bench.registry import UnknownNameError
    from eva_bench.store import StoreError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    user_errors = (
        UserError, UnknownNameError, StoreError, ProtocolError, RenderingUnavailableError, ValueError, TypeError
    )
    try:
        app()
    except user_errors as error:
        if os.environ.get("EVA_BENCH_DEBUG"):
            raise
        typer.echo(f"error: {error} (set EVA_BENCH_DEBUG=1 for the traceback)", err=True)
        sys.exit(2)

