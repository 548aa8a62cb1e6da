"""Bench task `autolibra`: a tool-using catalog agent with five planted failure modes,
trained from a simulated user's free-text feedback (docs/metrics.md)."""

from __future__ import annotations

from typing import Any

from undertow.bench.registry import OptimizerEntry, TaskEntry, register_optimizer, register_task
from undertow.bench.runner.errors import BenchError
from undertow.bench.tasks.autolibra import run

register_task(TaskEntry(
    name="autolibra", family="agent",
    description="catalog agent (ReAct + lookup tool) with planted failure modes; feedback: a simulated "
                "user's free-text complaints and a score (AutoLibra metric induction, docs/metrics.md)",
    metric="trajectory score (right value+unit, minus repeats/verbosity)", kinds=frozenset({"text"}),
    uses_llm=True, splits=run.splits, score=run.score, feedback=run.feedback, build=run.AutoLibraRun,
    # the optimizers that train through the run's own loop (the agent's multi-step trajectories);
    # the prompt searches answer items with one plain LLM call, which is not this agent
    optimizers=frozenset({"none", "optoprime", "textgrad", "autolibra"})))


def _metric_driven(params: list[Any], llm: Any, task: TaskEntry, agent: Any) -> Any:
    from undertow.optimizers.metrics import MetricDriven
    from undertow.optimizers.opto import OptoPrime

    if llm is None:
        raise BenchError("optimizer autolibra needs an LLM: pass --llm (e.g. --llm sim)")
    if not hasattr(agent, "trajectories"):
        raise BenchError(f"optimizer autolibra needs a task that records trajectories with free-text "
                         f"feedback (e.g. autolibra); {task.name} does not")
    return MetricDriven(OptoPrime(params, llm, memory_size=3), llm, n_induce=16)


register_optimizer(OptimizerEntry(
    name="autolibra", description="OptoPrime fed by AutoLibra metrics induced from the first 16 runs' "
                                  "free-text feedback (then the judge rates every run)",
    kinds=frozenset({"text"}), uses_llm=True, factory=_metric_driven, tasks=frozenset({"autolibra"})))
