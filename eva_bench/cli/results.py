"""`eva-bench results ...`: read the results database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import DbOption, db_path
from eva_bench.errors import UserError

app = typer.Typer(help="Read the results database.", no_args_is_help=True)


@app.command("show")
def results_show(
    run_id: Annotated[str, typer.Option(help="The run to show.")],
    format: Annotated[str, typer.Option("--format", help="md or csv.")] = "md",  # noqa: A002
    settings: Annotated[bool, typer.Option(help="Print the run's settings above the table (md only).")] = True,
    db: DbOption = None,
) -> None:
    """A run's settings (policy, checkpoint and reward IDM with digests, commit) and its per-task success table."""
    from eva_bench.report.tables import run_settings, success_table
    from eva_bench.store import ResultsStore

    if format not in ("md", "csv"):
        raise UserError(f"--format must be md or csv, got {format!r}")
    with ResultsStore(db_path(db), create=False) as store:
        info = store.get_run(run_id)
        if info is None:
            known = ", ".join(r.run_id for r in store.list_runs()) or "none"
            raise UserError(f"no run {run_id!r} in {db_path(db)}; runs: {known}")
        if settings and format == "md":
            typer.echo(run_settings(info))
        typer.echo(success_table(store.summary(run_id), format), nl=False)


@app.command("list")
def results_list(db: DbOption = None) -> None:
    """List the runs in the database, newest first."""
    from eva_bench.store import ResultsStore

    with ResultsStore(db_path(db), create=False) as store:
        for info in store.list_runs():
            done = len(store.done(info.run_id))
            typer.echo(f"{info.run_id:32s} {info.policy:12s} {done:5d}/{info.episodes * len(info.tasks):<5d} "
                       f"episodes  {info.created_at}")


@app.command("export")
def results_export(
    run_id: Annotated[list[str], typer.Option(help="A run to copy; repeatable.")],
    out: Annotated[Path, typer.Option(help="The new database file (must not exist).")],
    relative_to: Annotated[Path, typer.Option(
        help="Paths under this folder are stored relative to it in the copy (checkpoints, reward IDM, "
             "videos), so it reads the same from a clone of the repository.")] = Path("."),
    db: DbOption = None,
) -> None:
    """Copy runs (settings, episodes, seeds) into a new, self-contained database to commit or share."""
    from eva_bench.store import ResultsStore

    prefix = str(relative_to.resolve()).rstrip("/") + "/"
    with ResultsStore(db_path(db), create=False) as store:
        copied = store.export_runs(run_id, out, strip_prefix=prefix)
    typer.echo(f"{out}: {len(run_id)} run(s), {copied} episode(s); paths under {prefix} made relative")
