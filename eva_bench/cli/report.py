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

    with _open(db) as store:
        for written in write_idm_report(store, run_id, ablation_run or [], out):
            typer.echo(str(written))


@app.command("reward")
def report_reward(
    run_id: Annotated[list[str], typer.Option(help="Runs whose episodes stored a reward; repeatable (pooled).")],
    out: Annotated[Path, typer.Option(help="Folder for the table and the figure.")] = Path("results"),
    bootstrap: Annotated[int, typer.Option(min=100, help="Bootstrap resamples of each AUROC interval.")] = 2000,
    db: DbOption = None,
) -> None:
    """Figure S1(b): the IDM reward of successful vs. failed episodes per task and pooled (box plots), with the
    AUROC of the reward as a success predictor (reward_success.md/.csv/.png)."""
    from eva_bench.report.reward import write_reward_report

    with _open(db) as store:
        for run in run_id:
            if store.get_run(run) is None:
                raise UserError(f"no run {run!r} in {store.path}")
        for written in write_reward_report(store, list(run_id), out, bootstrap):
            typer.echo(str(written))


@app.command("grpo")
def report_grpo(
    run: Annotated[Path, typer.Option(help="A run folder of `eva-bench train grpo`.")],
    out: Annotated[Path, typer.Option(help="Folder for the figure and its summary.")] = Path("results"),
    window: Annotated[int, typer.Option(min=1, help="Steps of the moving average.")] = 10,
) -> None:
    """Figure S3: the GRPO reward curve (rollouts per step, held-out prompts per evaluation, static share)."""
    from eva_bench.report.grpo import write_grpo_report

    for written in write_grpo_report(run, out, window):
        typer.echo(str(written))


@app.command("joints")
def report_joints(
    run_id: Annotated[str, typer.Option(help="A run whose episodes saved videos (and rewards).")],
    source: Annotated[str, typer.Option(help="imagined (a world-model policy's imagined videos, scored by their "
                                             "reward) or executed (the episodes' videos and stored rewards).")] = (
        "imagined"),
    idm: Annotated[str | None, typer.Option(help="IDM decoding the videos (default: the run's reward IDM).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the figure and its summary.")] = Path("results"),
    db: DbOption = None,
) -> None:
    """Figure 2: the joint angles the IDM decodes from the run's highest- and lowest-reward rollouts, with their
    rewards (figure2_joints.png/.json)."""
    from eva_bench.report.joints import write_joints_report

    with _open(db) as store:
        try:
            written = write_joints_report(store, run_id, out, source, idm)
        except ValueError as error:
            raise UserError(str(error)) from None
    for path in written:
        typer.echo(str(path))


@app.command("table2")
def report_table2(
    run: Annotated[list[str], typer.Option(help="LABEL=RUN_ID of a run to put in the table (e.g. DP=dp-tiny-pilots); "
                                                "repeatable, in column order.")],
    out: Annotated[Path, typer.Option(help="Folder for the table.")] = Path("results"),
    db: DbOption = None,
) -> None:
    """Table 2 / S1: successes per task of the given runs beside the paper's numbers (table2.md/.csv)."""
    from eva_bench.report.table2 import write_table2

    runs = {}
    for item in run:
        label, sep, run_id = item.partition("=")
        if not sep or not label or not run_id:
            raise UserError(f"--run {item!r}: give LABEL=RUN_ID")
        runs[label] = run_id
    _write(db, lambda store: write_table2(store, runs, out))


@app.command("gap")
def report_gap(
    run_id: Annotated[str, typer.Option(help="A run of a world-model policy (eva-norl, eva).")],
    out: Annotated[Path, typer.Option(help="Folder for the table.")] = Path("results"),
    db: DbOption = None,
) -> None:
    """The executability gap per task of a world-model run: success, the IDM reward of the executed and the
    imagined video, PSNR/SSIM of imagined vs executed frames, over the robot's pixels too (gap.md/.csv)."""
    from eva_bench.report.gap import write_gap_report

    _write(db, lambda store: write_gap_report(store, run_id, out))


@app.command("episodes")
def report_episodes(
    run_id: Annotated[str, typer.Option(help="A run whose episodes saved videos.")],
    outcome: Annotated[str, typer.Option(help="success, failure or all.")] = "success",
    frames: Annotated[int, typer.Option(min=2, help="Frames per video strip.")] = 8,
    limit: Annotated[int, typer.Option(min=1, help="Most episodes on the sheet (task, then episode order).")] = 40,
    out: Annotated[Path, typer.Option(help="Folder for the sheet.")] = Path("results"),
    db: DbOption = None,
) -> None:
    """A contact sheet to look at what the policy did: per episode evenly spaced frames of the executed video and,
    for a world-model policy, of the imagined one, labelled with outcome and reward (episodes_OUTCOME.png)."""
    from eva_bench.report.episodes import write_episode_sheet

    _write(db, lambda store: write_episode_sheet(store, run_id, out, outcome, frames, limit))


@app.command("curve")
def report_curve(
    run: Annotated[Path, typer.Option(help="A run folder of any `eva-bench train ...` command.")],
    out: Annotated[Path, typer.Option(help="Folder for the figure and the log copy.")] = Path("results"),
    name: Annotated[str, typer.Option(help="Name of the files (default: the run folder's name).")] = "",
) -> None:
    """A training run's learning curve: the training loss and every held-out metric against the step
    (NAME_curve.png) and a copy of its log (NAME_log.csv)."""
    from eva_bench.report.curves import write_learning_curve

    for written in write_learning_curve(run, out, name):
        typer.echo(str(written))


def _write(db, report) -> None:
    """Run `report(store)` on the database and print the files it wrote; its ValueErrors are user errors."""
    with _open(db) as store:
        try:
            written = report(store)
        except ValueError as error:
            raise UserError(str(error)) from None
    for path in written:
        typer.echo(str(path))


def _open(db):
    """The results database for reading (a missing file is an error, not a new empty database)."""
    from eva_bench.store import ResultsStore

    path = db_path(db)
    if not path.is_file():
        raise UserError(f"no results database at {path}")
    return ResultsStore(path, create=False)
