"""`eva-bench compare`: rank checkpoints (or a GRPO run's snapshots) on validation seeds for early stopping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eva_bench import paths
from eva_bench.cli.common import DbOption, ProgressBars, db_path, split_tasks
from eva_bench.compare import CompareConfig
from eva_bench.configs import field_default, field_docs
from eva_bench.run_config import EvalConfig


def _help(name: str) -> str:
    return field_docs(CompareConfig)[name]


def _default(name: str):
    return field_default(CompareConfig, name)


def compare(
    checkpoints: Annotated[list[str], typer.Argument(help=_help("checkpoints"))],
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task names.")] = "all",
    episodes: Annotated[int, typer.Option(min=1, help=_help("episodes"))] = _default("episodes"),
    seed: Annotated[int, typer.Option(min=0, help=_help("seed"))] = _default("seed"),
    workers: Annotated[int, typer.Option(min=1, help=_help("workers"))] = _default("workers"),
    name: Annotated[str, typer.Option(help=_help("name"))] = _default("name"),
    reference: Annotated[str | None, typer.Option(help=_help("reference"))] = None,
    base: Annotated[bool, typer.Option(help=_help("include_base"))] = _default("include_base"),
    bootstrap: Annotated[int, typer.Option(min=100, help=_help("bootstrap"))] = _default("bootstrap"),
    policy_option: Annotated[
        list[str] | None, typer.Option("--policy-option", help="KEY=VALUE, repeatable: " + _help("policy_options"))
    ] = None,
    instructions: Annotated[str, typer.Option(help=_help("instruction_kind"))] = _default("instruction_kind"),
    video: Annotated[bool, typer.Option(help=_help("save_video"))] = _default("save_video"),
    reward_idm: Annotated[str | None, typer.Option(help=_help("reward_idm"))] = None,
    out: Annotated[Path, typer.Option(help=_help("out"))] = Path("results/compare"),
    episodes_dir: Annotated[Path | None, typer.Option(
        help=field_docs(EvalConfig)["output_dir"] + f" Default: {paths.default_output_dir()}.")] = None,
    db: DbOption = None,
) -> None:
    """Evaluate each checkpoint on validation seeds (never the evaluation seeds; resumable, one stored run
    each), then rank them: validation success and reward with bootstrap intervals, paired per-seed differences,
    the reward-hacking detectors, and the checkpoint to stop at with the reason (compare.md/.csv/.json/.png)."""
    from eva_bench.cli.run import option_pairs
    from eva_bench.compare import run_comparison
    from eva_bench.doctor import require_rendering

    config = CompareConfig(
        checkpoints=list(checkpoints), tasks=split_tasks(tasks), db_path=db_path(db),
        output_dir=episodes_dir or paths.default_output_dir(), out=out, episodes=episodes, seed=seed,
        workers=workers, name=name, policy_options=option_pairs(policy_option or []),
        instruction_kind=instructions, save_video=video, reward_idm=reward_idm, include_base=base,
        bootstrap=bootstrap, reference=reference)
    require_rendering()
    with ProgressBars() as progress:
        files, summary = run_comparison(config, progress, echo=typer.echo)
    typer.echo(summary)
    for path in files:
        typer.echo(str(path))
