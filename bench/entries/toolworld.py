"""Bench entries of the tool world: the `toolworld` task and the `draft` optimizer."""

from __future__ import annotations

from typing import Any

from undertow.bench.registry import (
    OptimizerEntry,
    TaskEntry,
    register_optimizer,
    register_task,
)
from undertow.bench.runner.errors import BenchError
from undertow.bench.tasks.toolworld.run import (
    ToolWorldRun,
    toolworld_feedback,
    toolworld_score,
    toolworld_splits,
)


def _draft(params: list[Any], llm: Any, task: TaskEntry, agent: Any) -> Any:
    from undertow.optimizers.draft import DRAFT

    if llm is None:
        raise BenchError("optimizer draft needs an LLM: pass --llm (e.g. --llm sim)")
    if not isinstance(agent, ToolWorldRun):
        raise BenchError(f"optimizer draft refines tool docs by probing tools; task {task.name!r} has "
                         "no tools to probe (use -t toolworld)")
    docs = {name: p for name, p in agent.agent.docs.items()}
    return DRAFT(docs, llm, agent.probe, probes_per_round=6, max_rounds=8, patience=2)


register_task(TaskEntry(
    name="toolworld", family="tools",
    description="ReAct agent over tools (calc, convert, calendar, kv) whose shipped docs have planted "
                "flaws; trainable: one doc per tool; multi-call tasks",
    metric="task success", kinds=frozenset({"text"}), uses_llm=True,
    splits=toolworld_splits, score=toolworld_score, feedback=toolworld_feedback, build=ToolWorldRun,
    # prompt searches (opro, mcts, beam, ape, ...) score one prompt on single-call items;
    # this agent has four docs and multi-call items, so they do not apply
    optimizers=frozenset({"none", "draft", "optoprime", "textgrad"})))

register_optimizer(OptimizerEntry(
    name="draft",
    description="DRAFT: explore tools with probe calls, analyze doc vs observations, rewrite docs "
                "(toolworld only)",
    kinds=frozenset({"text"}), uses_llm=True, factory=_draft, tasks=frozenset({"toolworld"})))
