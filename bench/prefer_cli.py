"""`undertow prefer`: optimize a task's prompt from *your* preferences (APOHF).

APOHF writes candidate prompts, then each duel shows two responses to one input side
by side; you press ``l`` (left is better), ``r`` (right) or ``t`` (tie) and Enter. The
terminal oracle sits behind the same interface as the simulated one
(`undertow.optimizers.prompts.TerminalOracle` / `SimulatedOracle`). At the end the
prompt you preferred most (by the fitted model) is printed, with every duel.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.panel import Panel
from undertow.bench.console import cli_console


def prefer_cmd(
    task: Annotated[str, typer.Option("--task", "-t", help="A prompt task (see `undertow bench list`).")] = "boolean_expressions",
    llm: Annotated[str, typer.Option(help="LLM spec: sim, openai:MODEL, ...")] = "sim",
    rounds: Annotated[int, typer.Option(min=1, help="APOHF steps (each: `duels` comparisons).")] = 1,
    duels: Annotated[int, typer.Option(min=1, help="Comparisons per step.")] = 3,
    candidates: Annotated[int, typer.Option(min=1, help="Candidate prompts written by the LLM.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the task split and the duels.")] = 0,
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Folder of the real-data tasks.")] = None,
) -> None:
    """Optimize a prompt from your preferences: keys l / r / t for each pair of responses."""
    from undertow.bench.registry import get_task_entry
    from undertow.bench.runner.errors import BenchError
    from undertow.bench.runner.tasks import SplitSizes, TaskContext
    from undertow.engine.llm import make_llm
    from undertow.optimizers.prompts import APOHF, TerminalOracle

    console = cli_console()
    try:
        entry = get_task_entry(task)
        model = make_llm(llm, cache_dir=False)
        ctx = TaskContext(seed=seed, llm=model, eval_llm=model, sizes=SplitSizes(20, 5, 5), batch_size=4,
                          propagator="subgraph", data_dir=data_dir)
        agent = entry.build(ctx)
        if not hasattr(agent, "program"):
            raise BenchError(f"task {task} has no prompt to optimize; pick a reasoning task")
    except (BenchError, KeyError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from None
    oracle = TerminalOracle(console)
    opt = APOHF(agent.program(), model, oracle, train=agent.splits.train, duels=duels,
                n_candidates=candidates, seed=seed)
    try:
        for _ in range(rounds):
            opt.step()
    except EOFError as exc:
        console.print(f"[red]stopped:[/red] {exc}")
        raise typer.Exit(code=1) from None
    for p in opt.parameters:
        console.print(Panel(str(p.value), title=f"preferred {p.label} (llm={llm})"))
    console.print(f"{len(opt.history)} comparisons: " + ", ".join(
        f"{h['first']} vs {h['second']} -> {h['pref']}" for h in opt.history))
