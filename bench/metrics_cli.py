"""`undertow metrics`: induce metrics from trajectories with feedback (AutoLibra), rate
trajectories on them, and export bench runs as trajectories. See docs/metrics.md."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from undertow.bench.console import cli_console
from undertow.optimizers.metrics import (
    TrajectoryFileError,
    evaluate,
    induce,
    rates,
    read_metric_set,
    read_trajectories,
    write_metric_set,
    write_trajectories,
)

metrics_app = typer.Typer(help="AutoLibra: metrics induced from open-ended feedback on agent runs.",
                          no_args_is_help=True)
console = cli_console()


def _llm(spec: str, max_calls: int | None):  # noqa: ANN202 - an engine LLM
    from undertow.engine.llm import Budget, make_llm

    budget = Budget(max_calls=max_calls) if max_calls else None
    return make_llm(spec, cache_dir=False if spec == "sim" else None, budget=budget)


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {exc}", soft_wrap=True)  # paths stay whole
    raise typer.Exit(2)


def _tag(spec: str) -> str:
    from undertow.bench.runner.llm_label import llm_label

    return f"llm={llm_label(spec)}"


@metrics_app.command("induce")
def induce_cmd(runs: Path = typer.Argument(..., help="Trajectories JSONL (format: docs/metrics.md)."),
               llm: str = typer.Option("sim", help="LLM spec: sim, openai:MODEL, ..."),
               out: Path = typer.Option(None, help="Output folder (default: <RUNS>_metrics)."),
               max_iterations: int = typer.Option(4, min=1, help="Most induction iterations."),
               seed: int = typer.Option(0, help="Seed of the first iteration's sample."),
               max_calls: int = typer.Option(None, help="Stop (with an error) after this many LLM calls.")) -> None:
    """Induce metrics from RUNS.jsonl: table, metrics.json and coverage.png in --out."""
    try:
        trajs = read_trajectories(runs)
        result = induce(trajs, _llm(llm, max_calls), llm_name=_tag(llm)[4:], max_iterations=max_iterations,
                        seed=seed)
    except (TrajectoryFileError, ValueError) as exc:
        _fail(exc)
        return
    folder = out or runs.with_name(runs.stem + "_metrics")
    folder.mkdir(parents=True, exist_ok=True)
    write_metric_set(folder / "metrics.json", result)
    from undertow.bench.metrics_plot import plot_coverage

    plot_coverage({"": result.iterations}, folder / "coverage.png",
                  f"AutoLibra coverage per iteration ({_tag(llm)}, {len(trajs)} trajectories)")
    table = Table(title=f"Induced metrics ({_tag(llm)})")
    for col in ("metric", "definition", "+ex", "-ex"):
        table.add_column(col, overflow="fold")
    for m in result.metrics:
        table.add_row(m.name, m.definition, str(len(m.positive_examples)), str(len(m.negative_examples)))
    console.print(table)
    its = Table(title="Iterations")
    for col in ("iteration", "metrics", "coverage", "redundancy", "covered / behaviours"):
        its.add_column(col, justify="right", overflow="fold")
    for it in result.iterations:
        its.add_row(str(it.iteration), str(len(it.metrics)), f"{it.coverage:.3f}", f"{it.redundancy:.3f}",
                    f"{it.covered} / {it.behaviours}")
    console.print(its)
    console.print(f"{result.calls} LLM calls, {result.skipped_replies} unreadable reply entries skipped; "
                  f"wrote {folder / 'metrics.json'} and {folder / 'coverage.png'}")


@metrics_app.command("eval")
def eval_cmd(runs: Path = typer.Argument(..., help="Trajectories JSONL."),
             metrics: Path = typer.Option(..., "--metrics", help="metrics.json from `undertow metrics induce`."),
             llm: str = typer.Option("sim", help="LLM spec of the judge."),
             out: Path = typer.Option(None, help="Write the judgements here (JSONL)."),
             max_calls: int = typer.Option(None, help="Stop (with an error) after this many LLM calls.")) -> None:
    """Rate every trajectory on every metric: a table of per-metric rates."""
    try:
        trajs = read_trajectories(runs)
        mset = read_metric_set(metrics)
    except TrajectoryFileError as exc:
        _fail(exc)
        return
    judgements = evaluate(trajs, mset.metrics, _llm(llm, max_calls))
    table = Table(title=f"Metric rates over {len(trajs)} trajectories ({_tag(llm)})")
    for col in ("metric", "positive", "negative", "n/a", "rate (+ / applicable)"):
        table.add_column(col, justify="right", overflow="fold")
    for name, (p, n, na) in rates(judgements).items():
        table.add_row(name, str(p), str(n), str(na), f"{p / (p + n):.3f}" if p + n else "-")
    console.print(table)
    if out is not None:
        from undertow.engine.files import atomic_write_text

        atomic_write_text(out, "".join(j.model_dump_json() + "\n" for j in judgements))
        console.print(f"wrote {out}")


@metrics_app.command("export")
def export_cmd(run_dir: Path = typer.Argument(..., help="A bench run folder (`undertow bench run --out`)."),
               output: Path = typer.Option(..., "-o", "--output", help="Trajectories JSONL to write."),
               split: str = typer.Option("test", help="Split to replay: train, val or test.")) -> None:
    """Replay the runs of RUN_DIR with their final parameters and write their trajectories."""
    from undertow.bench.metrics_export import export_run_dir
    from undertow.bench.runner.errors import BenchError

    try:
        trajs = export_run_dir(run_dir, split)
    except BenchError as exc:
        _fail(exc)
        return
    write_trajectories(output, trajs)
    console.print(f"wrote {len(trajs)} trajectories to {output}")
