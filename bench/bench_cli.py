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
from undertow.bench.console import cli_console
from undertow.bench.interrupts import interrupt_once

bench_app = typer.Typer(help="Benchmark optimizers on bundled tasks at matched budgets.",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
T = TypeVar("T")


def cli_guard(fn: Callable[[], T]) -> T:
    """Run `fn`; a user error becomes one line on stderr and exit status 2, an interrupt
    its message (how to resume) and status 130."""
    from undertow.bench.runner.errors import BenchError
    from undertow.bench.runner.runner import Interrupted

    with interrupt_once():
        try:
            return fn()
        except Interrupted as exc:
            typer.echo(f"{exc}", err=True)
            raise typer.Exit(code=130) from None
        except BenchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None


def _names(values: list[str] | None, known: Any, option: str = "--task") -> list[str]:
    """Repeatable and comma-separated options; `all` (or no option at all) means every
    registered name (`known` may be a list of what `all` means). An option given with no
    name in it (`--task ''`) is an error, never a silent "all"."""
    from undertow.bench.runner.errors import BenchError

    names = [n.strip() for v in values or [] for n in v.split(",") if n.strip()]
    if values and not names:
        raise BenchError(f"{option} {values[0]!r} names nothing; give one or more names "
                         f"(comma-separated) or 'all': {', '.join(known)}")
    return list(known) if names == ["all"] or not names else names


def print_leaderboard(console: Console, records: list[Any]) -> None:
    from undertow.bench.runner.leaderboard import leaderboard

    rows = leaderboard(records)
    tags = ", ".join(sorted({r.tag for r in rows}))
    table = Table(title=f"Leaderboard: test score, mean ± sd over seeds ({tags})")
    for col in ("task", "optimizer", "framework", "test score", "seeds", "calls", "cost USD", "llm"):
        table.add_column(col, justify="left" if col in ("task", "optimizer", "framework", "llm") else "right",
                         overflow="fold")  # names and figures fold onto a second line, never cut
    for r in rows:
        table.add_row(r.task, r.optimizer, r.framework, f"{r.mean:.3f} ± {r.sd:.3f}", str(r.seeds),
                      f"{r.calls:.0f}", f"{r.cost_usd:.4f}", r.tag)
    console.print(table)


def _finish(console: Console, outcome: Any) -> None:
    if outcome.failed:
        raise typer.Exit(code=1)
    print_leaderboard(console, outcome.records)


@bench_app.command("run")
def run_cmd(
    ctx: typer.Context,
    task: Annotated[list[str] | None, typer.Option("--task", "-t", help="Task name(s), repeatable or comma-separated; 'all'.")] = None,
    optimizer: Annotated[list[str] | None, typer.Option("--optimizer", "-o", help="Optimizer name(s); 'all' (undertow's own; peers such as dspy:copro run when named).")] = None,
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
    config_file: Annotated[Path | None, typer.Option("--config", help="A TOML file setting any of these options (the command line wins).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the planned runs with estimated calls, tokens and dollars; run and write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: print JSON.")] = False,
    otel: Annotated[str | None, typer.Option(help="Export OpenTelemetry spans: console or otlp (extra [otel]; --workers 1).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Folder with bbh/<task>.json and gsm8k/*.jsonl for the real-data tasks (default $UNDERTOW_DATA_DIR).")] = None,
    executor: Annotated[str, typer.Option(help="Where runs execute: local (processes) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (with --executor ray; default: a local Ray instance). The --out folder must be reachable at the same path on every node.")] = None,
    rpm: Annotated[float | None, typer.Option(help="The provider's requests per minute, shared by every run of the sweep (one limiter per provider and model, whatever the workers).")] = None,
    tpm: Annotated[float | None, typer.Option(help="The provider's tokens per minute, shared by every run of the sweep.")] = None,
    rpm_burst: Annotated[float | None, typer.Option(help="Requests let through at once after an idle spell (default: a minute's worth of --rpm).")] = None,
    sweep_budget: Annotated[str | None, typer.Option(help="A cap on the training spend of all runs together (calls=N, tokens=N, usd=X); each run's --budget still applies.")] = None,
) -> None:
    """Run tasks x optimizers x seeds at a matched budget, checkpointing every step."""
    from undertow.bench.registry import TASKS, default_optimizers
    from undertow.bench.runner.errors import BenchError
    from undertow.bench.runner.real import DATA_ENV, REAL_TASKS, all_tasks
    from undertow.bench.runner.runfile import load_run_file
    from undertow.bench.runner.runner import make_config, start

    console = cli_console()
    opts: dict[str, Any] = {"task": task, "optimizer": optimizer, "llm": llm, "seeds": seeds, "budget": budget,
                            "steps": steps, "out": out, "workers": workers, "n_train": n_train, "n_val": n_val,
                            "n_test": n_test, "batch_size": batch_size, "otel": otel,
                            "data_dir": data_dir, "executor": executor, "ray_address": ray_address,
                            "rpm": rpm, "tpm": tpm, "rpm_burst": rpm_burst, "sweep_budget": sweep_budget}

    def go() -> Any:
        if config_file is not None:
            for key, value in load_run_file(config_file).items():
                if getattr(ctx.get_parameter_source(key), "name", "") != "COMMANDLINE":  # the command line wins
                    opts[key] = value
        o = opts
        for name in ("seeds", "steps", "workers", "n_train", "n_val", "n_test", "batch_size"):
            if o[name] < 1:
                raise BenchError(f"--{name.replace('_', '-')} must be at least 1, got {o[name]}")
        here = all_tasks(TASKS, o["llm"], o["data_dir"])
        tasks = _names(o["task"] or ["all"], here)
        if tasks == here and len(here) < len(TASKS):  # with a data folder, `all` keeps some real ones
            why = ("the simulated LLM cannot answer them" if any(t in REAL_TASKS for t in here)
                   else f"they need --data-dir DIR or {DATA_ENV}")
            typer.echo(f"note: --task all leaves out {len(TASKS) - len(here)} real-data tasks ({why}); "
                       "name them with --task to run them", err=True)
        config = make_config(tasks, _names(o["optimizer"] or ["all"], default_optimizers(), "--optimizer"),
                             llm=o["llm"], seeds=o["seeds"], budget=o["budget"], steps=o["steps"],
                             workers=o["workers"], n_train=o["n_train"], n_val=o["n_val"], n_test=o["n_test"],
                             batch_size=o["batch_size"], check_key=not dry_run,
                             data_dir=str(o["data_dir"]) if o["data_dir"] else None,
                             rpm=o["rpm"], tpm=o["tpm"], rpm_burst=o["rpm_burst"], sweep_budget=o["sweep_budget"])
        if dry_run:
            return _dry_run(console, config, as_json)
        callbacks = _otel_callbacks(o["otel"])
        folder = Path(o["out"]) if o["out"] else Path("bench-runs") / time.strftime("%Y%m%d-%H%M%S")
        pool = _executor(o["executor"], o["workers"], o["ray_address"])
        try:
            return start(config, folder, console=console, callbacks=callbacks, executor=pool)
        finally:
            for cb in callbacks:
                cb.provider.shutdown()  # flush the exporter

    outcome = cli_guard(go)
    if outcome is not None:
        _finish(console, outcome)


def _dry_run(console: Console, config: Any, as_json: bool) -> None:
    import json

    from undertow.bench.runner.estimate import as_json as estimate_json
    from undertow.bench.runner.estimate import estimate, totals

    rows = estimate(config)
    if as_json:
        typer.echo(json.dumps(estimate_json(config, rows), indent=1))
        return None
    money = lambda usd: "unknown price" if usd is None else f"{usd:.4f}"  # noqa: E731
    table = Table(title=f"Dry run: {len(rows)} planned runs, {config.steps} steps, budget {config.budget} "
                        f"(llm={config.llm}; estimates, nothing was run or written)")
    for col in ("run", "calls", "tokens", "eval calls", "eval tokens", "USD", "limited by"):
        table.add_column(col, justify="left" if col in ("run", "limited by") else "right",
                         no_wrap=col in ("run", "USD"), overflow="fold")
    for r in rows:
        table.add_row(r.run_id, f"{r.calls:,}", f"{r.tokens:,}", f"{r.eval_calls:,}", f"{r.eval_tokens:,}",
                      money(r.usd), r.capped_by)
    t = totals(rows)
    table.add_row("[bold]total[/bold]", f"{t['calls']:,}", f"{t['tokens']:,}", f"{t['eval_calls']:,}",
                  f"{t['eval_tokens']:,}", money(t["usd"]), "")
    console.print(table)
    return None


@bench_app.command("resume")
def resume_cmd(
    directory: Annotated[Path, typer.Argument(help="The --out folder of a run.")],
    workers: Annotated[int | None, typer.Option(help="Parallel processes (default: as the run was started).")] = None,
    otel: Annotated[str | None, typer.Option(help="Export OpenTelemetry spans: console or otlp (extra [otel]; --workers 1).")] = None,
    executor: Annotated[str, typer.Option(help="Where runs execute: local (processes) or ray.")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (with --executor ray).")] = None,
) -> None:
    """Continue a stopped or killed run: no step lost, none done twice."""
    from undertow.bench.runner.runner import resume

    console = cli_console()

    def go() -> Any:
        callbacks = _otel_callbacks(otel)
        pool = None
        if executor != "local" or ray_address:
            from undertow.bench.runner.config import load_config

            pool = _executor(executor, workers or load_config(directory).workers, ray_address)
        try:
            return resume(directory, workers=workers, console=console, callbacks=callbacks, executor=pool)
        finally:
            for cb in callbacks:
                cb.provider.shutdown()  # flush the exporter

    _finish(console, cli_guard(go))


def _otel_callbacks(kind: str | None) -> list[Any]:
    """`[otel_callback(kind)]`, or [] without --otel; a missing SDK is a one-line error."""
    from undertow.bench.runner.errors import BenchError

    if not kind:
        return []
    from undertow.engine.otel import otel_callback

    try:
        return [otel_callback(kind)]
    except (ImportError, ValueError) as exc:
        raise BenchError(str(exc)) from None


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

    report = cli_guard(lambda: write_report(directory, to))
    console = cli_console()
    console.print(f"report: {report.markdown} and {report.html} ({len(report.plots)} plots, "
                  f"{len(report.graphs)} graphs)")
    for note in report.notes:
        console.print(f"note: {note}")


@bench_app.command("show")
def show_cmd(
    directory: Annotated[Path, typer.Argument(help="A run folder (DIR/runs/<run id>) or a bench --out folder.")],
    run: Annotated[str | None, typer.Option(help="With a bench folder: show only this run id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (parameters, proposals, steps, tree).")] = False,
) -> None:
    """Show what a run learned: initial and final values (with diffs), proposals per step, the tree."""
    import json

    from undertow.bench.runner.show import describe
    from undertow.bench.runner.show_text import print_description

    data = cli_guard(lambda: describe(directory, run))
    if as_json:
        typer.echo(json.dumps(data, indent=1, default=repr))
        return
    print_description(cli_console(), data)


@bench_app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: tasks, optimizers, compatible pairs.")] = False,
) -> None:
    """Show the registered tasks and optimizers, and which pairs can run."""
    from undertow.bench.registry import OPTIMIZERS, TASKS, compatible

    if as_json:
        import json

        data = {
            "tasks": [{"name": t.name, "family": t.family, "trains": sorted(t.kinds), "metric": t.metric,
                       "uses_llm": t.uses_llm, "description": t.description,
                       "optimizers": [o.name for o in OPTIMIZERS.values() if compatible(t, o)]}
                      for t in TASKS.values()],
            "optimizers": [{"name": o.name, "changes": sorted(o.kinds), "feedback": o.propagator,
                            "uses_llm": o.uses_llm, "description": o.description} for o in OPTIMIZERS.values()],
        }
        typer.echo(json.dumps(data, indent=1))
        return
    console = cli_console()
    tasks = Table(title="Tasks")
    # the long free-text columns are capped, so that a wide console gives the names whole
    for col in ("task", "trains", "metric", "LLM", "optimizers", "description"):
        tasks.add_column(col, overflow="fold", max_width={"metric": 30, "optimizers": 40, "description": 40}.get(col))
    for t in TASKS.values():
        opts = ", ".join(o.name for o in OPTIMIZERS.values() if compatible(t, o))
        tasks.add_row(t.name, "/".join(sorted(t.kinds)), t.metric, "yes" if t.uses_llm else "no", opts,
                      t.description)
    console.print(tasks)
    opts = Table(title="Optimizers")
    for col in ("optimizer", "changes", "feedback", "LLM", "framework", "description"):
        opts.add_column(col, overflow="fold", max_width=60 if col == "description" else None)
    for o in OPTIMIZERS.values():
        opts.add_row(o.name, "/".join(sorted(o.kinds)), o.propagator if not o.peer else "its own",
                     "yes" if o.uses_llm else "no", o.peer or "undertow", o.description)
    console.print(opts)
