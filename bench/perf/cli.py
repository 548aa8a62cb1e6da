"""`undertow perf ...`: benchmarks that print one JSON object to stdout."""

from __future__ import annotations

import json

import typer

perf_app = typer.Typer(help="Benchmarks that print one JSON object (never timed unit tests).",
                       no_args_is_help=True)


def emit(result: dict) -> None:
    """Print a suite's result as one JSON object on stdout."""
    typer.echo(json.dumps(result, indent=2, sort_keys=False))


@perf_app.command("engine")
def perf_engine(
    quick: bool = typer.Option(False, help="Seconds instead of a minute (smaller sizes)."),
    trace_opt_python: str = typer.Option(
        None, envvar="UNDERTOW_TRACE_OPT_PYTHON",
        help="Interpreter with trace-opt installed, for the side-by-side figures (default: this one)."),
) -> None:
    """Engine: traced-operator cost vs a plain call, backward time and linearity, vs trace-opt if installed."""
    from undertow.bench.perf.engine import run

    emit(run(quick=quick, trace_opt_python=trace_opt_python))


@perf_app.command("bench")
def perf_bench(
    quick: bool = typer.Option(False, help="Smaller grid, N up to 300."),
    trace_opt_python: str = typer.Option(
        None, envvar="UNDERTOW_TRACE_OPT_PYTHON",
        help="Interpreter with trace-opt installed (default: the peers cache's trace-opt venv)."),
    limit_s: float = typer.Option(60.0, help="Skip trace-opt cells that would run past this."),
    part: list[str] = typer.Option(None, help="Only these parts: runner, executors, optoprime, backward."),
) -> None:
    """Runner overhead and 2-worker scaling, executor overhead (pool vs Ray), OptoPrime vs trace-opt by N."""
    from undertow.bench.perf.bench import run

    kw = {"parts": tuple(part)} if part else {}
    emit(run(quick=quick, trace_opt_python=trace_opt_python, limit_s=limit_s, **kw))


@perf_app.command("tree")
def perf_tree(quick: bool = typer.Option(False, help="A few seconds instead of minutes."),
              backend: list[str] = typer.Option(None, help="Restrict to these backends.")) -> None:
    """Tree-store kernels: nodes/s and bandwidth efficiency per backend, op and size."""
    from undertow.bench.perf.tree import run
    emit(run(quick=quick, backends=backend or None))


@perf_app.command("llm")
def perf_llm(quick: bool = typer.Option(False, help="A few seconds instead of a minute.")) -> None:
    """LLM layer: cache-hit latency, client overhead vs the raw SDK, async concurrency."""
    from undertow.bench.perf.llm import run
    emit(run(quick=quick))


@perf_app.command("tasks")
def perf_tasks(quick: bool = typer.Option(False, help="A few hundred items instead of thousands.")) -> None:
    """Reasoning tasks: items generated and solved per second, per task."""
    from undertow.bench.tasks.reasoning.perf import run

    emit(run(quick=quick))


@perf_app.command("sandbox")
def perf_sandbox(quick: bool = typer.Option(False, help="Fewer calls.")) -> None:
    """Sandbox: per-call overhead of the worker pool vs an in-process call, restart cost."""
    from undertow.engine.sandbox.perf import run

    emit(run(quick=quick))
