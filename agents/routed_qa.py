"""A question-answering agent with one trainable prompt per kind of question.

A fixed router (program code, not trained) sends each question to one of several
system prompts; the question is answered by one LLM call under that prompt. The
agent is a traced `Module` (feedback on an answer reaches only the prompt that
produced it), and `agent.program(score)` is its `Program` (optimizers score candidate
prompts without setting them). It is the bench's two-prompt program: whole-program optimizers must
find which prompt to change.

    agent = RoutedQA(llm, {"logic": "Answer.", "sorting": "Answer."}, router=my_router)
    agent("not ( True ) and ( True ) is").value
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from undertow.engine import Module, Node, Parameter
from undertow.engine.llm.traced import llm_call
from undertow.optimizers.program import Call, Program
from undertow.optimizers.search.prompting import Item, ScoreFn


class RoutedQA(Module):
    """One system prompt per route; ``router(question) -> route`` picks it.

    Args:
        llm: the answering model.
        prompts: route -> initial prompt text (each becomes a text Parameter named
            ``<route>_prompt``).
        router: maps a question to one of the routes.
        purpose: the accounting purpose of the calls.
    """

    def __init__(self, llm: Any, prompts: Mapping[str, str], router: Callable[[str], str], *,
                 purpose: str = "forward") -> None:
        if not prompts:
            raise ValueError("RoutedQA needs at least one route -> prompt")
        self.llm, self.router, self.purpose = llm, router, purpose
        self.prompts = {route: Parameter(text, kind="text", name=f"{route}_prompt",
                                         description=f"system prompt for the {route} questions")
                        for route, text in prompts.items()}

    def route(self, question: str) -> str:
        r = self.router(question)
        if r not in self.prompts:
            raise ValueError(f"the router sent a question to {r!r}, which is not one of the routes "
                             f"{sorted(self.prompts)}")
        return r

    def __call__(self, question: str) -> Node:
        """The answer to ``question``, traced through the prompt of its route."""
        return llm_call(self.llm, question, system=self.prompts[self.route(question)], purpose=self.purpose)

    def program(self, score: ScoreFn | None = None) -> Program:
        """This agent as a `Program` scored by ``score`` (None: unlabeled)."""
        return RoutedProgram(self, score)


class RoutedProgram(Program):
    """A `RoutedQA` seen as a Program: candidate prompts answer without being set."""

    def __init__(self, agent: RoutedQA, score: ScoreFn | None) -> None:
        self.agent, self.score = agent, score
        self.parameters = agent.parameters()

    async def aanswer(self, values: Mapping[str, Any], items: Sequence[Item]
                      ) -> list[tuple[str, tuple[Call, ...]]]:
        a = self.agent
        names = [a.prompts[a.route(it.input)].label for it in items]
        messages = [[{"role": "system", "content": str(values[n])}, {"role": "user", "content": it.input}]
                    for n, it in zip(names, items)]
        replies = await a.llm.acomplete_many(messages, purpose=a.purpose)
        return [(r.text, (Call(n, it.input, r.text),)) for n, it, r in zip(names, items, replies)]
