"""`undertow perf ...`: benchmarks that print one JSON object to stdout."""

from __future__ import annotations

import json

import typer

perf_app = typer.Typer(help="Benchmarks that print one JSON object (never timed unit tests).",
                       no_args_is_help=True)


def emit(result: dict) -> None:
    """Print a suite's result as one JSON object on stdout."""
    typer.echo(json.dumps(result, indent=2, sort_keys=False))
