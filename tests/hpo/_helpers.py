"""Shared bits of the HPO tests: a backend that replays chosen replies through the real
`LLM` client, and small spaces."""

from __future__ import annotations

from collections.abc import Callable

from undertow.engine.llm import LLM
from undertow.engine.llm.types import LLMRequest, Reply
from undertow.optimizers.search_space import Dim, Space

MIXED = Space((
    Dim("lr", "float", 0.01, 1e-4, 1.0, log=True),
    Dim("depth", "int", 3, 1, 10),
    Dim("kind", "choice", "a", choices=("a", "b", "c")),
))


class ScriptedBackend:
    """Every reply comes from `reply(request)`: arbitrary (even hostile) model output."""

    provider = "scripted"
    endpoint = "scripted://"

    def __init__(self, reply: Callable[[LLMRequest], str]) -> None:
        self.reply = reply
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest, *, timeout=None, stream=False) -> Reply:
        self.requests.append(request)
        return Reply(text=self.reply(request), prompt_tokens=1, completion_tokens=1, model="scripted")

    async def acomplete(self, request: LLMRequest, *, timeout=None, stream=False) -> Reply:
        return self.complete(request)

    def close(self) -> None:
        pass


def scripted_llm(reply: Callable[[LLMRequest], str]) -> LLM:
    return LLM(ScriptedBackend(reply), model="scripted", cache=None)
