"""Bench entries: the scikit-learn HPO tasks (`hpo:*`), LLAMBO and random search.

The tasks appear when scikit-learn is installed (the `hpo` extra), like `tpe` with
Optuna. One optimizer step is one evaluation of a configuration, so `--steps N`
matches evaluations across `llambo`, `tpe` and `random`.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from undertow.bench.registry import OptimizerEntry, TaskEntry, _llm, register_optimizer, register_task
from undertow.bench.runner.tasks import Feedback, SplitSizes, TaskContext
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits
from undertow.engine import Parameter
from undertow.engine.llm import LLM
from undertow.optimizers import Optimizer

SEARCH_KINDS = frozenset({"int", "float", "choice"})


def _hpo_entry(name: str) -> TaskEntry:
    from undertow.bench.tasks.hpo import get_task

    task = get_task(name)
    full = f"hpo:{name}"

    def splits(seed: int, sizes: SplitSizes) -> Splits:
        item = Example(input=f"{full} seed {seed}", target="1.0", meta={"seed": seed})
        return Splits([item], [item], [item])

    def build(ctx: TaskContext) -> Any:
        from undertow.bench.tasks.hpo.run import HPORun

        return HPORun(name, ctx)

    return TaskEntry(
        name=full, family="hyperparameters",
        description=f"scikit-learn {task.model.split(' (')[0]} on {task.dataset.split(' (')[0]}: "
                    f"{', '.join(f'{d.name} ({d.kind})' for d in task.space.dims)}",
        metric="3-fold CV accuracy (test: held-out accuracy)",
        kinds=frozenset(d.kind for d in task.space.dims), uses_llm=False, splits=splits,
        score=lambda prediction, target: float(prediction),
        feedback=lambda prediction, example: Feedback(f"{full} report", float(prediction)), build=build)


def task_description(task: TaskEntry, agent: Any) -> str:
    """What LLAMBO is told about a task: the HPO task's own description, else the entry's."""
    problem = getattr(agent, "problem", None)
    if problem is not None and hasattr(problem, "task"):
        return str(problem.task.description())
    return f"{task.description}. Metric to maximize: {task.metric}."


def _seed(agent: Any) -> int:
    problem = getattr(agent, "problem", None) or getattr(agent, "scenario", None)
    return int(getattr(problem, "seed", 0))


def _log_scale(agent: Any) -> frozenset[str]:
    space = getattr(agent, "space", None)
    return space.log_scale() if space is not None else frozenset()


def _llambo(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.llambo import LLAMBO

    return LLAMBO(params, _llm(llm, "llambo"), task_description(task, agent), log_scale=_log_scale(agent),
                  seed=_seed(agent))


def _random(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.random_search import RandomSearch

    return RandomSearch(params, seed=_seed(agent), log_scale=_log_scale(agent))


register_optimizer(OptimizerEntry(
    name="llambo", description="LLAMBO: LLM warm start, target-conditioned sampling, LLM surrogate + "
                               "expected improvement (int/float/choice)",
    kinds=SEARCH_KINDS, uses_llm=True, factory=_llambo))
register_optimizer(OptimizerEntry(
    name="random", description="random search over int/float/choice parameters, log-uniform on log "
                               "scales (no LLM)",
    kinds=SEARCH_KINDS, uses_llm=False, factory=_random))

if importlib.util.find_spec("sklearn") is not None:  # the `hpo` extra
    from undertow.bench.tasks.hpo import TASKS as _HPO

    for _name in _HPO:
        register_task(_hpo_entry(_name))
