"""Shared pieces of the TextGrad and OPRO tests: a boolean-expressions prompt task on
the simulated LLM (results here are llm=sim), and a scripted backend for fuzzing."""

from __future__ import annotations

from undertow.bench.tasks.reasoning import get_task, make_splits
from undertow.engine.llm import LLM
from undertow.engine.llm.types import LLMRequest, Reply

TASK = get_task("boolean_expressions")
SPLITS = make_splits("boolean_expressions", seed=0, n_train=20, n_val=0, n_test=40)
START = "Evaluate the boolean expression."


def answers(llm, system: str, items) -> list[tuple[str, float]]:
    """(reply, score) per item for the system prompt `system`."""
    replies = llm.complete_many([[{"role": "system", "content": system},
                                  {"role": "user", "content": e.input}] for e in items])
    return [(r.text, TASK.score(r.text, e.target)) for r, e in zip(replies, items, strict=True)]


def accuracy(llm, system: str, items) -> float:
    results = answers(llm, system, items)
    return sum(s for _, s in results) / len(results)


def feedback(reply: str, target: str) -> str:
    """'Correct', or 'Wrong: expected X, got Y'."""
    return "Correct" if TASK.score(reply, target) else f"Wrong: expected {target}, got {reply}"


class ScriptedBackend:
    """A backend whose every reply is `text`: drives the real `LLM` client with arbitrary replies."""

    provider = "scripted"
    endpoint = "scripted://"

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, request: LLMRequest, *, timeout=None, stream=False) -> Reply:
        return Reply(text=self.text, prompt_tokens=1, completion_tokens=1, model="scripted")

    async def acomplete(self, request: LLMRequest, *, timeout=None, stream=False) -> Reply:
        return self.complete(request)

    def close(self) -> None:
        pass


def scripted_llm(text: str) -> LLM:
    return LLM(ScriptedBackend(text), model="scripted", cache=None)
