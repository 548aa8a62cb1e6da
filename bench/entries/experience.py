"""The experience-library optimizers as bench optimizers: `experience` and `bootstrap`.

Both train the system prompt of the reasoning (and real-data) tasks' agent: the prompt
becomes the task's initial prompt followed by what the library retrieves. The library
is a SQLite file in the run's folder (`runs/<run>/experience/library.db`), snapshotted
with every checkpoint (`optimizers/experience/persist.py`), so a killed run resumes
with the library it had at its last checkpoint. Every LLM call they make (the curator,
verification and validation re-solves) goes through the run's budgeted client, so
budgets match those of the other optimizers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from undertow.bench.registry import OptimizerEntry, TaskEntry, register_optimizer
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.tasks import ReasoningRun, _messages
from undertow.engine import Parameter
from undertow.engine.llm import LLM
from undertow.optimizers import Optimizer

#: Items the validation gate of `experience` re-solves per commit (budgeted calls).
VALIDATE_ITEMS = 6


def _setup(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any, name: str
           ) -> tuple[ReasoningRun, LLM, Path]:
    if llm is None:
        raise BenchError(f"optimizer {name} needs an LLM: pass --llm (e.g. --llm sim)")
    if not isinstance(agent, ReasoningRun) or len(params) != 1:
        raise BenchError(f"optimizer {name} trains the one system prompt of the reasoning and real-data "
                         f"tasks; {task.name} is not one of them")
    if not getattr(agent, "run_dir", None):
        raise BenchError(f"optimizer {name} keeps its library in the run's folder; run it with "
                         "`undertow bench run` (no run folder was given)")
    return agent, llm, Path(agent.run_dir) / "experience"


def _solver(agent: ReasoningRun, llm: LLM) -> Any:
    """`solve(system_prompt, item_input) -> reward` over the run's budgeted LLM."""
    targets = {e.input: e.target for e in (*agent.splits.train, *agent.splits.val)}

    def solve(system: str, item: str) -> float:
        if item not in targets:
            return 0.0
        reply = llm.complete(_messages(system, item), purpose="optimizer")
        return float(agent.task.score(reply.text, targets[item]))

    return solve


def _experience(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.experience.persist import PersistedExperience, fresh_store

    run, client, folder = _setup(params, llm, task, agent, "experience")
    solve = _solver(run, client)
    val = run.splits.val[:VALIDATE_ITEMS]

    def validate(system: str) -> float:
        return sum(solve(system, e.input) for e in val) / max(1, len(val))

    base = params[0].value
    return PersistedExperience(params, store=fresh_store(folder), llm=client, base_prompt=base, base=base,
                               folder=folder, scope=task.name, solve=solve, validate=validate,
                               k=6, token_budget=500, verify_items=4, refine_every=2,
                               run=f"bench-{task.name}")


def _bootstrap(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.experience.persist import PersistedBootstrap, fresh_store

    _, _, folder = _setup(params, llm, task, agent, "bootstrap")
    return PersistedBootstrap(params, store=fresh_store(folder), base=params[0].value, folder=folder,
                              scope=task.name, k=3, token_budget=500, run=f"bench-{task.name}")


_TEXT = frozenset({"text"})
_FAMILIES = frozenset({"reasoning", "real data"})
register_optimizer(OptimizerEntry(
    name="experience", description="ExperienceOptimizer (AlphaOPT-style): curated, verified insights from "
    "failures vs successes in a SQLite library in the run folder", kinds=_TEXT, uses_llm=True,
    factory=_experience, families=_FAMILIES))
register_optimizer(OptimizerEntry(
    name="bootstrap", description="TrajectoryBootstrap: solved training items kept as few-shot examples, "
    "dropped when they do not help (library in the run folder)", kinds=_TEXT, uses_llm=True,
    factory=_bootstrap, families=_FAMILIES))
