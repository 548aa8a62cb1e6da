"""`undertow demo`: the README's main job, fully offline.

For now it optimizes a few numeric DAG problems with Adam through the numeric
propagator (no LLM: `llm=none`) and prints a table. Later tasks and optimizers join
it as they land.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from undertow.bench.tasks.numeric_dag import generate
from undertow.engine import backward
from undertow.optimizers import Adam


@dataclass
class DagResult:
    seed: int
    n_ops: int
    initial_loss: float
    final_loss: float
    steps: int
    solved: bool
    seconds: float


def optimize_dag(seed: int, *, max_steps: int = 300, lr: float = 0.05, tol: float = 1e-3) -> DagResult:
    """Minimize |h(x) - y*| for one numeric DAG problem with Adam."""
    start = time.perf_counter()
    dag = generate(seed)
    params = dag.parameters()
    opt = Adam(params, lr=lr)
    loss = dag.loss(dag.forward(params))
    initial = loss.value
    steps = 0
    while loss.value > tol and steps < max_steps:
        backward(loss, 1.0, "numeric")
        opt.step()
        opt.zero_feedback()
        steps += 1
        loss = dag.loss(dag.forward(params))
    return DagResult(seed, len(dag.ops), initial, loss.value, steps, loss.value <= tol,
                     time.perf_counter() - start)


def run_demo(n_problems: int = 5, console: Console | None = None) -> list[DagResult]:
    """Optimize `n_problems` numeric DAGs and print a table of the results."""
    console = console or Console()
    console.print("[bold]undertow demo[/bold] — numeric DAG optimization with Adam (llm=none, offline)")
    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("optimizing DAG problems", total=n_problems)
        for seed in range(n_problems):
            results.append(optimize_dag(seed))
            progress.advance(task)
    table = Table(title="Numeric DAG problems: minimize |h(x) − y*| (llm=none)")
    for col in ("problem", "ops", "initial loss", "final loss", "steps", "solved"):
        table.add_column(col, justify="right")
    for r in results:
        table.add_row(f"dag-{r.seed}", str(r.n_ops), f"{r.initial_loss:.4f}", f"{r.final_loss:.5f}",
                      str(r.steps), "yes" if r.solved else "no")
    console.print(table)
    solved = sum(r.solved for r in results)
    console.print(f"solved {solved}/{len(results)} problems in {sum(r.seconds for r in results):.2f} s")
    return results
