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


@perf_app.command("opto-parse")
def perf_opto_parse(quick: bool = typer.Option(False, help="Fewer repetitions.")) -> None:
    """OptoPrime's reply reader on 100 KB adversarial replies: seconds per case and scaling."""
    from undertow.bench.perf.parse import run

    emit(run(quick=quick))


@perf_app.command("bench")
def perf_bench(
    quick: bool = typer.Option(False, help="Smaller grid, N up to 300."),
    trace_opt_python: str = typer.Option(
        None, envvar="UNDERTOW_TRACE_OPT_PYTHON",
        help="Interpreter with trace-opt installed (default: the peers cache's trace-opt venv)."),
    limit_s: float = typer.Option(60.0, help="Skip trace-opt cells that would run past this."),
    part: list[str] = typer.Option(None, help="Only these parts: runner, executors, optoprime, backward; also fanout, limits (not run by default)."),
    runner_repetitions: int = typer.Option(
        None, min=1, help="Repetitions of the runner part (default 5, 2 with --quick); the minimum is kept."),
) -> None:
    """Runner overhead and 2-worker scaling, executor overhead (pool vs Ray), OptoPrime vs trace-opt by N."""
    from undertow.bench.perf.bench import OPTIONAL_PARTS, PARTS, run

    unknown = sorted(set(part or ()) - set(PARTS) - set(OPTIONAL_PARTS))
    if unknown:
        raise typer.BadParameter(f"unknown part {', '.join(unknown)}; use one of {', '.join(PARTS + OPTIONAL_PARTS)}",
                                 param_hint="--part")
    kw = {"parts": tuple(part)} if part else {}
    emit(run(quick=quick, trace_opt_python=trace_opt_python, limit_s=limit_s,
             runner_repetitions=runner_repetitions, **kw))


@perf_app.command("tree")
def perf_tree(quick: bool = typer.Option(False, help="A few seconds instead of minutes."),
              backend: list[str] = typer.Option(None, help="Restrict to these backends."),
              runs: int = typer.Option(1, min=1, help="With N > 1: also UCT score eta over N runs of "
                                       "each numba cell with B*M >= 1e6 (min/median/max), as `eta_runs`."),
              runs_only: bool = typer.Option(False, help="With --runs: only the eta distribution, "
                                             "not the whole suite.")) -> None:
    """Tree-store kernels: nodes/s and bandwidth efficiency per backend, op and size."""
    from undertow.bench.perf.tree import run
    from undertow.bench.perf.tree_runs import eta_runs

    if runs_only and runs < 2:
        raise typer.BadParameter("--runs-only needs --runs N with N >= 2", param_hint="--runs-only")
    result: dict = {"suite": "tree", "llm": "none"} if runs_only else run(quick=quick, backends=backend or None)
    if runs > 1:
        result["eta_runs"] = eta_runs(runs, quick=quick)
    emit(result)


@perf_app.command("qd-archive")
def perf_qd_archive(quick: bool = typer.Option(False, help="Two sizes instead of three.")) -> None:
    """MAP-Elites batch insert: NumPy vs Numba vs a Python loop (docs/quality-diversity.md)."""
    from undertow.bench.perf.qd_archive import run

    emit(run(quick=quick))


@perf_app.command("llm")
def perf_llm(quick: bool = typer.Option(False, help="A few seconds instead of a minute.")) -> None:
    """LLM layer: cache-hit latency, client overhead vs the raw SDK, async concurrency."""
    from undertow.bench.perf.llm import run
    emit(run(quick=quick))


@perf_app.command("sim")
def perf_sim(quick: bool = typer.Option(False, help="Fewer calls and a smaller bench run.")) -> None:
    """Simulated LLM: requests/s on 1k-8k-token requests, its share of a benchmark's wall time."""
    from undertow.bench.perf.sim import run
    emit(run(quick=quick))


@perf_app.command("tasks")
def perf_tasks(quick: bool = typer.Option(False, help="A few hundred items instead of thousands.")) -> None:
    """Reasoning tasks: items generated and solved per second, per task."""
    from undertow.bench.tasks.reasoning.perf import run

    emit(run(quick=quick))


@perf_app.command("sandbox")
def perf_sandbox(quick: bool = typer.Option(False, help="Fewer calls.")) -> None:
    """Sandbox: per-call cost at each isolation level, side by side with the old pool and a bare fork."""
    from undertow.bench.perf.sandbox import run

    emit(run(quick=quick))


@perf_app.command("startup")
def perf_startup(
    repetitions: int = typer.Option(15, min=1, help="Runs of each command (interleaved)."),
) -> None:
    """Start-up: `undertow --help` against `python -c "import typer, rich"`, min over repetitions."""
    from undertow.bench.perf.startup import run

    emit(run(repetitions=repetitions))


@perf_app.command("crossover")
def perf_crossover(
    repetitions: int = typer.Option(5, min=1, help="Repetitions per cell (the minimum is kept)."),
) -> None:
    """Tree backends: the tree size from which Numba beats NumPy (the default's source)."""
    from undertow.bench.perf.crossover import run

    emit(run(repetitions=repetitions))


@perf_app.command("memory")
def perf_memory(quick: bool = typer.Option(False, help="Memories of 100 and 400 instead of up to 3000.")) -> None:
    """Stream memories: retrieval latency vs memory size (warm, after a write, naive-scan baseline)."""
    from undertow.bench.perf.memory import run

    emit(run(quick=quick))
