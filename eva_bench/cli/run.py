"""`eva-bench run` and `eva-bench collect`: evaluate a policy, record expert demonstrations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from eva_bench import paths
from eva_bench.cli.common import DbOption, ProgressBars, db_path, split_tasks
from eva_bench.configs import field_default, field_docs
from eva_bench.data.collect_config import CollectConfig
from eva_bench.errors import UserError
from eva_bench.run_config import EvalConfig


def option_pairs(pairs: list[str]) -> dict[str, str]:
    """KEY=VALUE texts -> {KEY: VALUE}; the values are parsed later, against the policy's config dataclass."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--policy-option must look like KEY=VALUE, got {pair!r}")
        options[key.strip()] = value
    return options


def _help(name: str, extra: str = "") -> str:
    return f"{field_docs(EvalConfig)[name]}{extra}"


def run(
    policy: Annotated[str, typer.Option(help=_help("policy"))],
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    episodes: Annotated[int, typer.Option(min=1, help=_help("episodes"))] = field_default(EvalConfig, "episodes"),
    seed: Annotated[int, typer.Option(min=0, help=_help("seed"))] = field_default(EvalConfig, "seed"),
    seeds: Annotated[str, typer.Option(help=_help("seed_split"))] = field_default(EvalConfig, "seed_split"),
    workers: Annotated[int, typer.Option(min=1, help=_help("workers"))] = field_default(EvalConfig, "workers"),
    run_id: Annotated[str | None, typer.Option(help=_help("run_id", " Default: POLICY-TIMESTAMP."))] = None,
    checkpoint: Annotated[str | None, typer.Option(help=_help("checkpoint"))] = None,
    policy_option: Annotated[
        list[str] | None, typer.Option("--policy-option", help="KEY=VALUE, repeatable: " + _help("policy_options"))
    ] = None,
    instructions: Annotated[str, typer.Option(help=_help("instruction_kind"))] = field_default(
        EvalConfig, "instruction_kind"),
    out: Annotated[
        Path | None, typer.Option(help=_help("output_dir", f" Default: {paths.default_output_dir()}."))
    ] = None,
    video: Annotated[bool, typer.Option(help=_help("save_video"))] = field_default(EvalConfig, "save_video"),
    reward_idm: Annotated[str | None, typer.Option(help=_help("reward_idm"))] = None,
    db: DbOption = None,
) -> None:
    """Evaluate a policy on tasks by RoboTwin's protocol; every episode is stored as it finishes."""
    from eva_bench.doctor import require_rendering
    from eva_bench.report.tables import success_table
    from eva_bench.runner import evaluate
    from eva_bench.store import ResultsStore

    run_id = run_id or f"{policy}-{datetime.now():%Y%m%d-%H%M%S}"
    config = EvalConfig(
        policy=policy,
        tasks=split_tasks(tasks),
        run_id=run_id,
        db_path=db_path(db),
        output_dir=out or paths.default_output_dir(),
        episodes=episodes,
        seed=seed,
        seed_split=seeds,
        workers=workers,
        checkpoint=checkpoint,
        policy_options=option_pairs(policy_option or []),
        instruction_kind=instructions,
        save_video=video,
        reward_idm=reward_idm,
    )
    require_rendering()
    typer.echo(f"run {run_id}: policy {policy}, {len(config.tasks)} task(s) x {episodes} episodes -> {config.db_path}")
    with ProgressBars() as progress:
        evaluate(config, progress)
    with ResultsStore(config.db_path) as store:
        typer.echo(success_table(store.summary(run_id)))


def _collect_help(name: str, prefix: str = "") -> str:
    return prefix + field_docs(CollectConfig)[name]


def collect(
    out: Annotated[Path, typer.Option(help=_collect_help("out"))],
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    episodes: Annotated[int, typer.Option(min=1, help=_collect_help("episodes"))] = field_default(
        CollectConfig, "episodes"),
    workers: Annotated[int, typer.Option(min=1, help=_collect_help("workers"))] = field_default(
        CollectConfig, "workers"),
    cameras: Annotated[str, typer.Option(help=_collect_help("cameras", "Comma-separated. "))] = ",".join(
        field_default(CollectConfig, "cameras")),
    resolution: Annotated[str, typer.Option(help=_collect_help("resolution", "WIDTHxHEIGHT: "))] = "x".join(
        map(str, field_default(CollectConfig, "resolution"))),
) -> None:
    """Record the scripted expert's successful episodes on training seeds 0, 1, 2, ... as RoboTwin-layout HDF5
    files, head-camera videos and instructions (resumable: run again with the same --out to continue)."""
    from eva_bench.data.collect import collect as run_collect
    from eva_bench.doctor import require_rendering
    from eva_bench.sim.cameras import parse_resolution

    try:
        width, height = parse_resolution(resolution)
    except ValueError as error:
        raise UserError(f"--resolution: {error}") from None
    config = CollectConfig(split_tasks(tasks), out, episodes, workers,
                           tuple(c.strip() for c in cameras.split(",") if c.strip()), (width, height))
    require_rendering()
    typer.echo(f"collecting {episodes} episodes x {len(config.tasks)} task(s) -> {out}")
    with ProgressBars() as progress:
        data = run_collect(config, progress)
    for task in config.tasks:
        record = data["tasks"][task]
        frames = sum(e["frames"] for e in record["episodes"])
        typer.echo(f"{task:28s} {len(record['episodes'])} episodes, {frames} frames, "
                   f"{len(record['skipped_seeds'])} seeds skipped (expert failed)")
