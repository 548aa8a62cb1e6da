"""Finding 7 of issue 12: token and dollar caps are hard.

Before a call, its worst case (a bound of its prompt tokens + `max_tokens`, priced)
is reserved next to the spend and the other reservations; a call that could cross
a cap is refused with `BudgetExceeded`, and the reservation is settled with the real
usage after the reply. Tested with the cap at every boundary.
"""

from __future__ import annotations

import pytest

from undertow.engine.llm import Accounting, Budget, BudgetExceeded, Usage, make_llm

PRICES = {"m": (1000.0, 3000.0)}  # USD per million tokens (in, out)


@pytest.mark.parametrize("prompt,max_tokens,spent", [(10, 5, 0), (40, 1, 17), (1, 60, 3)])
@pytest.mark.parametrize("delta", [-2, -1, 0, 1, 2])
def test_token_cap_at_every_boundary(prompt: int, max_tokens: int, spent: int, delta: int) -> None:
    worst = spent + prompt + max_tokens
    acc = Accounting(Budget(max_tokens=worst + delta), prices=PRICES)
    if spent:
        acc.record("forward", "openai", "m", Usage(prompt_tokens=spent), acc.reserve("forward", "openai", "m"))
    if delta < 0:
        with pytest.raises(BudgetExceeded, match="max_tokens"):
            acc.reserve("forward", "openai", "m", prompt_tokens=prompt, max_tokens=max_tokens)
        assert acc.spent().calls == (1 if spent else 0)  # the refused call left no trace
    else:
        held = acc.reserve("forward", "openai", "m", prompt_tokens=prompt, max_tokens=max_tokens)
        acc.record("forward", "openai", "m", Usage(prompt_tokens=prompt, completion_tokens=max_tokens), held)
        assert acc.spent().total_tokens == worst <= worst + delta


@pytest.mark.parametrize("delta_tokens", [-1, 0, 1])
def test_dollar_cap_at_every_boundary(delta_tokens: int) -> None:
    prompt, max_tokens = 100, 50
    worst_usd = (prompt * 1000.0 + max_tokens * 3000.0) / 1e6
    cap = worst_usd + delta_tokens * 3000.0 / 1e6  # one output token's price either side
    acc = Accounting(Budget(max_usd=cap), prices=PRICES)
    if delta_tokens < 0:
        with pytest.raises(BudgetExceeded, match="max_usd"):
            acc.reserve("optimizer", "openai", "m", prompt_tokens=prompt, max_tokens=max_tokens)
    else:
        held = acc.reserve("optimizer", "openai", "m", prompt_tokens=prompt, max_tokens=max_tokens)
        acc.record("optimizer", "openai", "m", Usage(prompt_tokens=prompt, completion_tokens=max_tokens), held)
        assert acc.spent().cost_usd <= cap + 1e-12


def test_reservations_in_flight_count_and_settle_to_the_real_usage() -> None:
    acc = Accounting(Budget(max_tokens=100))
    first = acc.reserve("forward", "sim", "sim", prompt_tokens=30, max_tokens=30)  # holds 60
    with pytest.raises(BudgetExceeded):
        acc.reserve("forward", "sim", "sim", prompt_tokens=30, max_tokens=30)  # 120 > 100 with the first
    acc.record("forward", "sim", "sim", Usage(prompt_tokens=20, completion_tokens=5), first)  # 25 spent
    second = acc.reserve("forward", "sim", "sim", prompt_tokens=30, max_tokens=30)  # 25 + 60 <= 100
    acc.record_failure("forward", reservation=second)  # a failed call frees its reservation
    acc.reserve("forward", "sim", "sim", prompt_tokens=40, max_tokens=35)  # 25 + 75 == 100


def test_no_max_tokens_is_given_the_room_left() -> None:
    acc = Accounting(Budget(max_tokens=100), completion_reserve=1000)
    held = acc.reserve("forward", "sim", "sim", prompt_tokens=30)
    assert held.max_tokens == 70
    small = Accounting(Budget(max_tokens=100), completion_reserve=16)
    assert small.reserve("forward", "sim", "sim", prompt_tokens=30).max_tokens == 16
    assert Accounting().reserve("forward", "sim", "sim", prompt_tokens=30).max_tokens is None


@pytest.mark.parametrize("cap", list(range(60, 420, 23)))
@pytest.mark.parametrize("max_tokens", [None, 8, 40])
def test_a_client_never_spends_past_a_token_cap(cap: int, max_tokens: int | None) -> None:
    llm = make_llm("sim", cache_dir=False, budget=Budget(max_tokens=cap), max_tokens=max_tokens)
    for i in range(100):
        try:
            llm.complete(f"Question {i}: what is {i} + {i}? Explain your reasoning step by step.")
        except BudgetExceeded:
            break
    assert llm.accounting.spent().total_tokens <= cap


@pytest.mark.parametrize("cap", [0.0004, 0.0005, 0.0011, 0.002, 0.0062])
def test_a_client_never_spends_past_a_dollar_cap(cap: float) -> None:
    llm = make_llm("sim", cache_dir=False, budget=Budget(max_usd=cap), prices={"sim": (1.0, 4.0)})
    for i in range(1000):
        try:
            llm.complete(f"Question {i}: what is {i} + {i}?")
        except BudgetExceeded:
            break
    assert 0 < llm.accounting.spent().calls and llm.accounting.spent().cost_usd <= cap


def test_concurrent_calls_never_cross_a_token_cap() -> None:
    llm = make_llm("sim", cache_dir=False, budget=Budget(max_tokens=500), max_tokens=20)
    prompts = [f"Question {i}: what is {i} * 3?" for i in range(40)]
    results = llm.complete_many(prompts, return_exceptions=True)
    assert any(isinstance(r, BudgetExceeded) for r in results)
    assert llm.accounting.spent().total_tokens <= 500
