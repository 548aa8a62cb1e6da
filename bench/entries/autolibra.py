"""Bench task `autolibra`: a tool-using catalog agent with five planted failure modes,
trained from a simulated user's free-text feedback (docs/metrics.md)."""

from __future__ import annotations

from undertow.bench.registry import TaskEntry, register_task
from undertow.bench.tasks.autolibra import run

register_task(TaskEntry(
    name="autolibra", family="agent",
    description="catalog agent (ReAct + lookup tool) with planted failure modes; feedback: a simulated "
                "user's free-text complaints and a score (AutoLibra metric induction, docs/metrics.md)",
    metric="trajectory score (right value+unit, minus repeats/verbosity)", kinds=frozenset({"text"}),
    uses_llm=True, splits=run.splits, score=run.score, feedback=run.feedback, build=run.AutoLibraRun))
