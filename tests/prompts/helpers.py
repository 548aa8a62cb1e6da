"""Test doubles for the *external* models only: a scripted LLM (replies from a function of
the request) and a toy task model whose accuracy depends on known words of the prompt.
The optimizers, the Program machinery and the oracles under test are the real ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from undertow.engine import Parameter
from undertow.engine.llm import LLM
from undertow.engine.llm.types import LLMRequest, Reply
from undertow.optimizers.program import Call, Program
from undertow.optimizers.search.prompting import Item


class FnBackend:
    """Replies ``fn(last user text, request)``; records every request it saw."""

    provider = "scripted"
    endpoint = "scripted://"

    def __init__(self, fn: Callable[[str, LLMRequest], str]) -> None:
        self.fn = fn
        self.seen: list[str] = []

    def complete(self, request: LLMRequest, *, timeout=None, stream=False) -> Reply:
        text = "\n".join(m.content for m in request.messages)
        self.seen.append(text)
        return Reply(text=self.fn(request.messages[-1].content, request), prompt_tokens=1,
                     completion_tokens=1, model="scripted")

    async def acomplete(self, request: LLMRequest, *, timeout=None, stream=False) -> Reply:
        return self.complete(request)

    def close(self) -> None:
        pass


def scripted(fn: Callable[[str, LLMRequest], str]) -> tuple[LLM, FnBackend]:
    backend = FnBackend(fn)
    return LLM(backend, model="scripted", cache=None), backend


def suggest(name: str, value: str) -> str:
    return json.dumps({"reasoning": "r", "suggestion": {name: value}})


def items(n: int, prefix: str = "q") -> list[Item]:
    return [Item(f"{prefix}{i}", f"T{i}") for i in range(n)]


class WordProgram(Program):
    """A toy task model: with prompt words ``quality[word]`` it answers item i right when
    ``(i * 7919) % 100 < 100 * quality``. Parameters are text; ``route`` sends an item
    to one of them (default: the first)."""

    def __init__(self, params: Sequence[Parameter], quality: Mapping[str, float],
                 route: Callable[[Item], str] | None = None, score: Any = "exact") -> None:
        self.parameters = list(params)
        self.quality = dict(quality)
        self.route = route or (lambda it: self.parameters[0].label)
        self.score = (lambda p, t: float(p == t)) if score == "exact" else score
        self.answered = 0

    def q(self, prompt: str) -> float:
        return max((v for w, v in self.quality.items() if w in prompt), default=0.0)

    async def aanswer(self, values: Mapping[str, Any], its: Sequence[Item]) -> list[tuple[str, tuple[Call, ...]]]:
        out = []
        for it in its:
            self.answered += 1
            name = self.route(it)
            k = int(it.input.lstrip("qab"))
            right = (k * 7919) % 100 < 100 * self.q(str(values[name]))
            answer = f"T{k}" if right else "wrong"
            out.append((answer, (Call(name, it.input, answer),)))
        return out
