"""The `undertow` command line (typer).

Sub-commands live next to what they drive: `perf` in `undertow.bench.perf.cli`, and
so on. Heavy modules are imported inside the commands, so `undertow --help` stays fast.
"""

from __future__ import annotations

import typer

from undertow import __version__
from undertow.bench.perf.cli import perf_app

app = typer.Typer(
    name="undertow",
    help="Optimize LLM agents from feedback: traced graphs, optimizers, benchmarks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(perf_app, name="perf")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"undertow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """undertow: optimize LLM agents from feedback."""


def main() -> None:
    """Entry point of the `undertow` console script and of `python -m undertow`."""
    app()
