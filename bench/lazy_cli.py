"""Sub-command groups loaded on first use, so `undertow --help` stays light.

Importing a sub-app can import every optimizer (the experience CLI pulls in
`undertow.optimizers`), which costs seconds. `LazyGroup` lists the sub-apps by name
and one-line help without importing them, and imports one only when it is invoked
(or its own `--help` is asked for).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup


#: name -> ("module:attribute" of a typer.Typer, the one-line help shown in `--help`)
LAZY_APPS: dict[str, tuple[str, str]] = {
    "bench": ("undertow.bench.bench_cli:bench_app",
              "Benchmark optimizers on bundled tasks at matched budgets."),
    "experience": ("undertow.optimizers.experience.cli:experience_app",
                   "Create, inspect and move experience libraries (SQLite files)."),
    "metrics": ("undertow.bench.metrics_cli:metrics_app",
                "AutoLibra: induce agent metrics from open-ended feedback, rate runs on them."),
    "peers": ("undertow.bench.peers.cli:peers_app",
              "Install and check the peer frameworks (Trace, TextGrad, DSPy, GEPA) the bench runs."),
    "perf": ("undertow.bench.perf.cli:perf_app",
             "Benchmarks that print one JSON object (never timed unit tests)."),
    "sandbox": ("undertow.bench.sandbox_cli:sandbox_app",
                "Check the sandbox: its isolation level, and the attack suite run against it."),
}


def load_app(target: str) -> typer.Typer:
    """The typer app a "module:attribute" string names."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class LazyGroup(TyperGroup):
    """A root group whose `LAZY_APPS` are imported when resolved, not when listed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_APPS})

    def _load(self, name: str) -> Any:
        if name not in self._loaded:
            command = typer.main.get_command(load_app(LAZY_APPS[name][0]))
            command.name = name
            self._loaded[name] = command
        return self._loaded[name]

    def get_command(self, ctx: Any, cmd_name: str) -> Any | None:
        """Listing: a stub with the one-line help; resolving: the real group."""
        if cmd_name not in LAZY_APPS:
            return super().get_command(ctx, cmd_name)
        if cmd_name in self._loaded or getattr(self, "_resolving", False):
            return self._load(cmd_name)
        return TyperGroup(name=cmd_name, help=LAZY_APPS[cmd_name][1])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        self._resolving = True
        try:
            return super().resolve_command(ctx, args)
        finally:
            self._resolving = False
