"""`eva-bench policies ...`: the registered policies and their settings."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Annotated

import typer

app = typer.Typer(help="List policies and show their settings.", no_args_is_help=True)


@app.command("list")
def policies_list() -> None:
    """Show every registered policy (built-in and from installed plug-ins), without importing any of them."""
    from eva_bench.policy import POLICIES

    for name in POLICIES.names():
        typer.echo(f"{name:16s} {POLICIES.summary(name)}")


@app.command("show")
def policies_show(name: Annotated[str, typer.Argument(help="Policy name (see `eva-bench policies list`).")]) -> None:
    """The policy's description and every setting of its config (for --policy-option KEY=VALUE)."""
    from eva_bench.configs import describe_fields
    from eva_bench.policy import POLICIES

    cls = POLICIES.get(name)
    typer.echo(f"{name}: {inspect.getdoc(cls) or ''}")
    cameras = ", ".join(cls.cameras) or "none (state only)"
    typer.echo(f"\ncameras: {cameras}; executes {cls.execute_steps or 'whole'} action chunks")
    rows = describe_fields(cls.config_class)
    typer.echo("\noptions (--policy-option KEY=VALUE):" if rows else "\noptions: none")
    for field_name, kind, default, doc in rows:
        shown = "required" if default is dataclasses.MISSING else f"default {default!r}"
        typer.echo(f"  {field_name} ({kind}, {shown})\n      {doc}")
