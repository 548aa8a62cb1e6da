"""`undertow demo`: the README's main job, fully offline.

A short benchmark on the simulated LLM (`llm=sim`): three bundled tasks — a
BBH-style prompt task, the Trace paper's numeric DAG and Battleship with a trainable
code policy — each optimized by the LLM optimizers and a no-LLM baseline, two seeds,
at a matched budget of LLM calls. It shows progress, prints the leaderboard and
writes the Markdown/HTML report with plots. It takes well under two minutes on two
cores.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

TASKS = ("boolean_expressions", "numeric_dag", "battleship")
OPTIMIZERS = ("none", "adam", "optoprime", "textgrad")


def fresh_folder(base: str = "undertow-demo") -> Path:
    """`base`, or `base-2`, `base-3`... : the first that does not exist yet."""
    path, n = Path(base), 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}")
    return path


def run_demo(out: str | Path | None = None, *, seeds: int = 2, steps: int = 4, workers: int = 2,
             console: Console | None = None) -> Path:
    """Run the demo benchmark into `out` (a new folder); return the report folder."""
    from undertow.bench.bench_cli import print_leaderboard
    from undertow.bench.runner import Interrupted, make_config, start, write_report

    console = console or Console()
    console.print("[bold]undertow demo[/bold] — optimizers on bundled tasks, offline "
                  "(llm=sim: the simulated LLM, see docs/sim.md)")
    started = time.perf_counter()
    config = make_config(TASKS, OPTIMIZERS, llm="sim", seeds=seeds, budget="calls=80", steps=steps,
                         workers=workers, n_train=20, n_val=20, n_test=40, batch_size=6)
    out = Path(out) if out is not None else fresh_folder()
    try:
        outcome = start(config, out, console=console)
    except Interrupted as exc:  # the demo's report is one command more after the resume
        raise Interrupted(f"{exc}, then `undertow bench report {out}` for the report") from None
    print_leaderboard(console, outcome.records)
    report = write_report(out)
    console.print(f"finished in {time.perf_counter() - started:.0f} s; report: {report.folder / 'report.md'} "
                  f"(also report.html and one plot per task)")
    return report.folder
