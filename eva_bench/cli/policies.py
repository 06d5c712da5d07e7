"""`eva-bench policies ...`: the registered policies."""

from __future__ import annotations

import typer

app = typer.Typer(help="List policies.", no_args_is_help=True)


@app.command("list")
def policies_list() -> None:
    """Show every registered policy (built-in and from installed plug-ins)."""
    from eva_bench.policy import POLICIES

    for name in POLICIES.names():
        cls = POLICIES.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        typer.echo(f"{name:16s} {doc}")
