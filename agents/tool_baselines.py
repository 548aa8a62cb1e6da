"""Baselines for ToolChain* at matched LLM calls, over the same tools and docs.

* `react_solve`: the ReAct agent (`agents/react.py`), its system prompt carrying the full
  tool documentation; with a call budget larger than one episode, it runs further
  episodes (distinct sample indices, temperature > 0) until the budget is spent and
  answers by majority vote (self-consistency), so that it can use the calls it is given.
* `tree_solve`: the test-time tree agent (`agents/tree_agent.py`, LATS style): each
  attempt is one ReAct rollout with the tools, valued by the model's own critique.

Every function returns, per question, the answer and the LLM calls it made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from undertow.agents.react import ReActAgent
from undertow.agents.tool_protocol import SYSTEM, ToolBox, parse_action, step_messages, tool_listing, toolbox
from undertow.agents.tree_agent import TreeSearchAgent, final_answer
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.search.toolchain import Step


@dataclass
class Answered:
    """A baseline's answer to one question and the LLM calls spent on it."""

    question: str
    answer: str
    calls: int
    episodes: int = 1


class _Counted:
    """An LLM handle that counts calls and samples with a fixed index and temperature."""

    def __init__(self, llm: LLM, *, sample_index: int = 0, temperature: float | None = None) -> None:
        self.llm, self.sample_index, self.temperature = llm, sample_index, temperature
        self.calls = 0

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        params.setdefault("sample_index", self.sample_index)
        if self.temperature is not None:
            params.setdefault("temperature", self.temperature)
        return params

    def complete(self, prompt: Any, **params: Any) -> Any:
        self.calls += 1
        return self.llm.complete(prompt, **self._params(params))

    async def acomplete(self, prompt: Any, **params: Any) -> Any:
        self.calls += 1
        return await self.llm.acomplete(prompt, **self._params(params))


def _react_tools(box: ToolBox) -> dict[str, Any]:
    def make(name: str) -> Any:
        def call(args: str) -> str:
            return box.run(name, args)[0]
        call.__doc__ = box.docs[name]
        return call
    return {name: make(name) for name in box.docs}


def react_solve(llm: LLM, tools: Any, questions: Sequence[str], *, budget: int = 8,
                temperature: float = 0.8) -> list[Answered]:
    """ReAct per question, episodes repeated while the call budget allows; majority answer."""
    box = toolbox(tools)
    prompt = SYSTEM.replace("{tools}", tool_listing(box.docs))
    fns = _react_tools(box)
    out = []
    for q in questions:
        votes: Counter[str] = Counter()
        first: dict[str, str] = {}
        spent, episodes = 0, 0
        while budget - spent >= 2:
            handle = _Counted(llm, sample_index=episodes, temperature=temperature)
            agent = ReActAgent(handle, fns, prompt=prompt, max_steps=max(1, budget - spent - 1))
            answer = str(agent(q).value)  # traced: the ReAct agent reads its steps as nodes
            spent += handle.calls
            episodes += 1
            key = " ".join(answer.lower().split())
            votes[key] += 1
            first.setdefault(key, answer)
            if handle.calls == 0:
                break
        best = max(votes, key=lambda a: (votes[a], -list(first).index(a))) if votes else ""
        out.append(Answered(q, first.get(best, ""), spent, episodes))
    return out


class _RolloutLLM:
    """For the tree agent: a "forward" completion is a whole ReAct rollout with the tools
    (the reply is its transcript ending in "Answer: ..."); a "judge" completion goes to
    the model. Counts every model call."""

    def __init__(self, llm: LLM, box: ToolBox, *, max_steps: int, temperature: float) -> None:
        self.llm, self.box, self.max_steps, self.temperature = llm, box, max_steps, temperature
        self.calls = 0

    async def acomplete(self, messages: Any, *, purpose: str | None = None, **params: Any) -> Any:
        if purpose != "forward":
            self.calls += 1
            return await self.llm.acomplete(messages, purpose=purpose, **params)
        question = messages[-1]["content"] if isinstance(messages, list) else str(messages)
        steps: list[Step] = []
        index = int(params.get("sample_index", 0))
        answer = ""
        for n in range(self.max_steps):
            self.calls += 1
            reply = await self.llm.acomplete(step_messages(question, self.box.docs, steps),
                                             purpose="forward", temperature=self.temperature,
                                             sample_index=index * 64 + n)
            action = parse_action(reply.text)
            if action.final:
                answer = action.answer or ""
                break
            obs, err = self.box.run(action.tool, action.args)
            steps.append(Step(action.tool, action.args, obs, err))
        else:
            answer = next((s.observation for s in reversed(steps) if not s.error), "")
        lines = [f"Action: {s.tool}[{s.args}] -> {s.observation}" for s in steps]
        return _Text("\n".join(lines + [f"Answer: {answer}"]))


@dataclass
class _Text:
    text: str


def tree_solve(llm: LLM, tools: Any, questions: Sequence[str], *, budget: int = 8, k: int = 2,
               max_steps: int = 4, temperature: float = 0.8) -> list[Answered]:
    """The tree agent with ReAct rollouts as attempts, iterations sized to the call budget
    (each attempt costs up to ``max_steps`` calls plus one critique)."""
    box = toolbox(tools)
    per_iteration = k * (max_steps + 1)
    iterations = max(1, budget // per_iteration)
    out = []
    for q in questions:
        handle = _RolloutLLM(llm, box, max_steps=max_steps, temperature=temperature)
        agent = TreeSearchAgent(handle, system="Answer the question with the tools.", k=k,  # type: ignore[arg-type]
                                iterations=iterations, temperature=temperature)
        result = run_sync(agent.asolve_many([q]))[0]
        out.append(Answered(q, final_answer(result.reply), handle.calls, result.attempts))
    return out


__all__ = ["Answered", "react_solve", "tree_solve"]
