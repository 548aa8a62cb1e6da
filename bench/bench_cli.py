"""`undertow bench ...`: run, resume, report and list benchmarks (a typer sub-app).

Registered by the root CLI with `app.add_typer(bench_app, name="bench")`. Mistakes a
user makes (unknown names, a bad LLM spec or budget, a missing key, an unwritable
folder) print one line on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

bench_app = typer.Typer(help="Benchmark optimizers on bundled tasks at matched budgets.",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
T = TypeVar("T")


def _guard(fn: Callable[[], T]) -> T:
    """Run `fn`; a user error becomes one line on stderr and exit status 2."""
    from undertow.bench.runner.errors import BenchError

    try:
        return fn()
    except BenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def _names(values: list[str] | None, known: Any) -> list[str]:
    """Repeatable and comma-separated options; `all` (or nothing) means every registered name."""
    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    return list(known) if names == ["all"] or not names else names


def print_leaderboard(console: Console, records: list[Any]) -> None:
    from undertow.bench.runner.leaderboard import leaderboard

    rows = leaderboard(records)
    tags = ", ".join(sorted({r.tag for r in rows}))
    table = Table(title=f"Leaderboard: test score, mean ± sd over seeds ({tags})")
    for col in ("task", "optimizer", "test score", "seeds", "calls", "cost USD", "llm"):
        table.add_column(col, justify="left" if col in ("task", "optimizer", "llm") else "right")
    for r in rows:
        table.add_row(r.task, r.optimizer, f"{r.mean:.3f} ± {r.sd:.3f}", str(r.seeds),
                      f"{r.calls:.0f}", f"{r.cost_usd:.4f}", r.tag)
    console.print(table)


def _finish(console: Console, outcome: Any) -> None:
    if outcome.failed:
        raise typer.Exit(code=1)
    print_leaderboard(console, outcome.records)


@bench_app.command("run")
def run_cmd(
    task: Annotated[list[str] | None, typer.Option("--task", "-t", help="Task name(s), repeatable or comma-separated; 'all'.")] = None,
    optimizer: Annotated[list[str] | None, typer.Option("--optimizer", "-o", help="Optimizer name(s); 'all'.")] = None,
    llm: Annotated[str, typer.Option(help="LLM spec: sim, openai:MODEL, anthropic:MODEL, openai-compatible:URL#MODEL.")] = "sim",
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per task x optimizer.")] = 1,
    budget: Annotated[str, typer.Option(help="Per run: calls=N, tokens=N, usd=X (comma-joined).")] = "calls=200",
    steps: Annotated[int, typer.Option(help="Optimizer steps per run (the budget may stop it first).")] = 5,
    out: Annotated[Path | None, typer.Option(help="New folder for this run (default bench-runs/<time>).")] = None,
    workers: Annotated[int, typer.Option(help="Runs in parallel processes.")] = 1,
    n_train: Annotated[int, typer.Option(help="Training items per seed (LLM tasks).")] = 30,
    n_val: Annotated[int, typer.Option(help="Validation items, scored after every step.")] = 20,
    n_test: Annotated[int, typer.Option(help="Test items, scored at the end.")] = 50,
    batch_size: Annotated[int, typer.Option(help="Training items per optimizer step.")] = 4,
    executor: Annotated[str, typer.Option(help="Where runs execute: local (processes) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (with --executor ray; default: a local Ray instance). The --out folder must be reachable at the same path on every node.")] = None,
) -> None:
    """Run tasks x optimizers x seeds at a matched budget, checkpointing every step."""
    from undertow.bench.registry import OPTIMIZERS, TASKS
    from undertow.bench.runner.errors import BenchError
    from undertow.bench.runner.runner import make_config, start

    if optimizer is None:
        optimizer = ["all"]
    if task is None:
        task = ["all"]
    def go() -> Any:
        for name, value in (("--seeds", seeds), ("--steps", steps), ("--workers", workers),
                            ("--n-train", n_train), ("--n-val", n_val), ("--n-test", n_test),
                            ("--batch-size", batch_size)):
            if value < 1:
                raise BenchError(f"{name} must be at least 1, got {value}")
        config = make_config(_names(task, TASKS), _names(optimizer, OPTIMIZERS), llm=llm, seeds=seeds,
                             budget=budget, steps=steps, workers=workers, n_train=n_train,
                             n_val=n_val, n_test=n_test, batch_size=batch_size)
        folder = out or Path("bench-runs") / time.strftime("%Y%m%d-%H%M%S")
        pool = _executor(executor, workers, ray_address)
        return start(config, folder, console=console, executor=pool)

    console = Console()
    _finish(console, _guard(go))


@bench_app.command("resume")
def resume_cmd(
    directory: Annotated[Path, typer.Argument(help="The --out folder of a run.")],
    workers: Annotated[int | None, typer.Option(help="Parallel processes (default: as the run was started).")] = None,
    executor: Annotated[str, typer.Option(help="Where runs execute: local (processes) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (with --executor ray).")] = None,
) -> None:
    """Continue a stopped or killed run: no step lost, none done twice."""
    from undertow.bench.runner.runner import resume

    console = Console()

    def go() -> Any:
        pool = None
        if executor != "local" or ray_address:
            from undertow.bench.runner.config import load_config

            pool = _executor(executor, workers or load_config(directory).workers, ray_address)
        return resume(directory, workers=workers, console=console, executor=pool)

    _finish(console, _guard(go))


def _executor(kind: str, workers: int, address: str | None) -> Any:
    """The executor to hand to the runner; None lets it make its local default."""
    from undertow.bench.runner.executor import make_named_executor

    if kind == "local" and not address:
        return None
    return make_named_executor(kind, workers, address=address)


@bench_app.command("report")
def report_cmd(
    directory: Annotated[Path, typer.Argument(help="The --out folder of a run.")],
    to: Annotated[Path | None, typer.Option("--to", help="Report folder (default DIR/report).")] = None,
) -> None:
    """Write Markdown and HTML: leaderboard, score vs calls and cost, best run's graph."""
    from undertow.bench.runner.report import write_report

    report = _guard(lambda: write_report(directory, to))
    console = Console()
    console.print(f"report: {report.markdown} and {report.html} ({len(report.plots)} plots, "
                  f"{len(report.graphs)} graphs)")
    for note in report.notes:
        console.print(f"note: {note}")


@bench_app.command("list")
def list_cmd() -> None:
    """Show the registered tasks and optimizers, and which pairs can run."""
    from undertow.bench.registry import OPTIMIZERS, TASKS, compatible

    console = Console()
    tasks = Table(title="Tasks")
    for col in ("task", "trains", "metric", "LLM", "optimizers", "description"):
        tasks.add_column(col)
    for t in TASKS.values():
        opts = ", ".join(o.name for o in OPTIMIZERS.values() if compatible(t, o))
        tasks.add_row(t.name, "/".join(sorted(t.kinds)), t.metric, "yes" if t.uses_llm else "no", opts,
                      t.description)
    console.print(tasks)
    opts = Table(title="Optimizers")
    for col in ("optimizer", "changes", "feedback", "LLM", "description"):
        opts.add_column(col)
    for o in OPTIMIZERS.values():
        opts.add_row(o.name, "/".join(sorted(o.kinds)), o.propagator, "yes" if o.uses_llm else "no",
                     o.description)
    console.print(opts)
