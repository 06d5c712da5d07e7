"""`eva-bench report ...`: the paper's tables from the results database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench.cli.common import DbOption, db_path
from eva_bench.errors import UserError

app = typer.Typer(help="Regenerate the paper's tables from the results database.", no_args_is_help=True)


@app.command("idm")
def report_idm(
    run_id: Annotated[str, typer.Option(help="An idm-oracle run (the paper's IDM, spatial softmax).")],
    ablation_run: Annotated[
        list[str] | None, typer.Option(help="idm-oracle runs of other IDM variants for Table S2; repeatable.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the tables.")] = Path("results"),
    db: DbOption = None,
) -> None:
    """Table 4 (per-task IDM-oracle success) and Table S2 (pooling ablation) as markdown and CSV."""
    from eva_bench.report.idm import write_idm_report
    from eva_bench.store import ResultsStore

    path = db_path(db)
    if not path.is_file():
        raise UserError(f"no results database at {path}")
    with ResultsStore(path, create=False) as store:
        for written in write_idm_report(store, run_id, ablation_run or [], out):
            typer.echo(str(written))
