"""Finding 6 of issue 12, the OptoPrime side: JSON mode where the provider has one,
and one repair round (booked against the budget) before a step is given up."""

from __future__ import annotations

from typing import Any

import pytest

from undertow.engine import Parameter, backward, op
from undertow.engine.llm import LLM, Accounting, Budget, BudgetExceeded
from undertow.engine.llm.types import LLMRequest, Reply
from undertow.optimizers import OptoPrime


class ScriptedProvider:
    """A provider that answers from a script and keeps every request it was sent."""

    provider = "scripted"
    endpoint = "scripted://test"

    def __init__(self, replies: list[str], json_mode: bool = False) -> None:
        self.replies = list(replies)
        self.requests: list[LLMRequest] = []
        self.supports_json_mode = json_mode

    def complete(self, request: LLMRequest, *, timeout: float | None = None, stream: bool = False) -> Reply:
        self.requests.append(request)
        return Reply(self.replies.pop(0), prompt_tokens=100, completion_tokens=20, model="m")

    async def acomplete(self, request: LLMRequest, **kw: Any) -> Reply:
        return self.complete(request, **kw)

    def close(self) -> None:
        pass


@op
def greet(instruction: str, name: str) -> str:
    return f"{instruction} {name}"


def _setup(replies: list[str], *, json_mode: bool = False, budget: Budget | None = None
           ) -> tuple[Parameter, OptoPrime, ScriptedProvider, LLM]:
    provider = ScriptedProvider(replies, json_mode)
    llm = LLM(provider, model="m", accounting=Accounting(budget, prices={"m": (0.0, 0.0)}))
    p = Parameter("Hello", name="instruction")
    backward(greet(p, "Bob"), "Say hi instead.")
    return p, OptoPrime([p], llm=llm), provider, llm


GOOD = '{"reasoning": "be casual", "suggestion": {"instruction": "Hi"}}'


def test_unreadable_reply_gets_one_repair_round() -> None:
    p, opt, provider, llm = _setup(["I would change the greeting to Hi.", GOOD])
    opt.step()
    assert p.value == "Hi"
    assert len(provider.requests) == 2 and llm.accounting.spent().calls == 2
    repair = provider.requests[1].messages
    assert repair[-2].role == "assistant" and repair[-2].content == "I would change the greeting to Hi."
    assert "could not be read" in repair[-1].content


def test_still_unreadable_after_repair_gives_up_the_step_with_the_reason() -> None:
    p, opt, provider, _ = _setup(["no json here", "still none"])
    proposals = opt.step()
    assert p.value == "Hello" and len(provider.requests) == 2
    assert any("still after one repair round" in pr.reason for pr in proposals)


def test_repair_is_counted_against_the_budget() -> None:
    p, opt, provider, _ = _setup(["no json here", GOOD], budget=Budget(max_calls=1))
    with pytest.raises(BudgetExceeded):
        opt.step()
    assert len(provider.requests) == 1 and p.value == "Hello"


def test_repair_can_be_turned_off() -> None:
    p, _, provider, llm = _setup(["no json here"])
    opt = OptoPrime([p], llm=llm, repair=False)
    opt.step()
    assert len(provider.requests) == 1


def test_json_mode_is_requested_from_providers_that_support_it() -> None:
    from undertow.optimizers.opto.optoprime import REPLY_FORMAT

    _, opt, provider, _ = _setup([GOOD], json_mode=True)
    opt.step()
    assert provider.requests[0].response_format == REPLY_FORMAT
    _, opt, provider, _ = _setup([GOOD], json_mode=False)
    opt.step()
    assert provider.requests[0].response_format is None


def test_sloppy_reply_is_read_without_a_repair_round() -> None:
    sloppy = "```json\n{'reasoning': 'casual', 'suggestion': {'instruction': 'Hi\nthere',},}\n```"
    p, opt, provider, _ = _setup([sloppy])
    opt.step()
    assert p.value == "Hi\nthere" and len(provider.requests) == 1
