"""ToolChain*: an LLM tool agent that plans by A* over a tree of tool-call steps.

For a batch of questions at once (one tree per question, all in one tree store):

* **expansion**: the LLM proposes ``k`` next actions for a popped partial plan (tool
  call or final answer), sampled at temperature > 0 with distinct sample indices;
  the tool calls run and their observations join the child plans;
* **g**: the step costs (1 per call, more for an error) minus the long-term memory's
  bonus (`PlanMemory`: plans that solved similar questions before, in the experience
  store);
* **h**: imagination: the LLM imagines the rest of the plan and its step count is the
  cost to go; plus a self-consistency term (how many of the ``k`` samples agreed);
* **frontier**: A* f-scores on the tree store (`optimizers/search/toolchain.py`).

The budget counts LLM calls per question (proposals and estimates). There is no
oracle at test time: the answer is the agent's own; a task's checker only scores it,
and, on training items, decides which plans the memory keeps (`learn`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from undertow.agents.plan_memory import PlanMemory
from undertow.agents.tool_protocol import (
    ToolBox,
    estimate_messages,
    parse_action,
    parse_remaining,
    step_messages,
    toolbox,
)
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.search.toolchain import (
    Action,
    ChainResult,
    Costs,
    Plan,
    chain_search,
)


class ToolChainAgent:
    """A* tool agent (see the module docstring).

    Args:
        llm: the model that proposes actions and imagines the rest of the plan.
        tools: a tool world (``docs()``, ``call``), a `ToolBox`, or name -> callable.
        k: actions sampled per expansion.
        budget: LLM calls per question.
        temperature: sampling temperature of the proposals (> 0 so samples differ).
        memory: a `PlanMemory`, or None for no long-term memory.
        costs: the cost model (`Costs`); ``Costs(use_estimate=False)`` turns h off.
        backend: the tree store backend (default: chosen by size).
    """

    def __init__(self, llm: LLM, tools: Any, *, k: int = 3, budget: int = 16,
                 temperature: float = 0.8, memory: PlanMemory | None = None,
                 costs: Costs | None = None, backend: Any = None) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0 so that the k samples differ, got {temperature}")
        self.llm = llm
        self.tools: ToolBox = toolbox(tools)
        self.k, self.budget, self.temperature = k, budget, temperature
        self.memory = memory
        self.costs = costs or Costs()
        self.backend = backend

    def solve_many(self, questions: Sequence[str]) -> list[ChainResult]:
        """One `ChainResult` per question, in order (sync twin of ``asolve_many``)."""
        return run_sync(self.asolve_many(questions))

    async def asolve_many(self, questions: Sequence[str]) -> list[ChainResult]:
        """Search one tree per question, all batched."""
        return await chain_search(questions, self._propose, self._estimate, self._execute,
                                  k=self.k, budget=self.budget, costs=self.costs,
                                  memory=self.memory, backend=self.backend)

    def learn(self, result: ChainResult, solved: bool, *, source: str = "") -> bool:
        """Keep a solved plan in the memory (True when stored)."""
        if not solved or self.memory is None or not any(not s.error for s in result.plan.steps):
            return False
        self.memory.remember(result.question, result.plan.steps, source=source)
        return True

    async def _propose(self, question: str, plan: Plan, k: int, node: int) -> list[Action]:
        msgs = step_messages(question, self.tools.docs, plan.steps)
        replies = await asyncio.gather(*(
            self.llm.acomplete(msgs, purpose="forward", temperature=self.temperature,
                               sample_index=node * k + j) for j in range(k)))
        return [parse_action(r.text) for r in replies]

    async def _estimate(self, question: str, plan: Plan) -> float:
        reply = await self.llm.acomplete(estimate_messages(question, self.tools.docs, plan.steps),
                                         purpose="forward", temperature=0.0)
        return parse_remaining(reply.text)

    async def _execute(self, tool: str, args: str) -> tuple[str, bool]:
        return self.tools.run(tool, args)
