"""Accounting per purpose, prices, and budgets that stop before a call is sent."""

from __future__ import annotations

import threading

import pytest
from undertow.engine.llm import (
    Accounting,
    Budget,
    BudgetExceeded,
    LLMConfigError,
    Usage,
)


def test_spend_per_purpose_and_prices() -> None:
    acc = Accounting(prices={"my-model": (1.0, 2.0)})
    for purpose, usage in (("forward", Usage(prompt_tokens=1000, completion_tokens=10)),
                           ("judge", Usage(prompt_tokens=500, completion_tokens=500))):
        acc.reserve(purpose, "openai", "my-model-2025")
        acc.record(purpose, "openai", "my-model-2025", usage)
    acc.record_hit("forward")
    assert acc.spent("forward").cost_usd == pytest.approx((1000 * 1 + 10 * 2) / 1e6)
    assert acc.spent("judge").total_tokens == 1000
    total = acc.summary()["total"]
    assert total["calls"] == 2 and total["cache_hits"] == 1 and total["total_tokens"] == 2010


def test_longest_prefix_price_and_free_local_models() -> None:
    acc = Accounting()
    assert acc.price("openai", "gpt-4o-mini-2024-07-18") == acc.prices["gpt-4o-mini"]
    assert acc.price("openai-compatible", "llama3") == (0.0, 0.0)
    assert acc.price("openai", "unknown-model") is None


def test_call_budget_stops_before_sending() -> None:
    acc = Accounting(Budget(max_calls=2))
    for _ in range(2):
        acc.reserve("forward", "sim", "sim")
        acc.record("forward", "sim", "sim", Usage(prompt_tokens=3, completion_tokens=4))
    with pytest.raises(BudgetExceeded, match="max_calls=2") as info:
        acc.reserve("forward", "sim", "sim")
    assert info.value.spent["calls"] == 2 and info.value.spent["total_tokens"] == 14
    assert info.value.by_purpose["forward"]["calls"] == 2
    assert acc.spent().calls == 2  # the refused call left no trace


def test_token_and_dollar_budgets() -> None:
    acc = Accounting(Budget(max_tokens=100), prices={"m": (1e6, 0.0)})
    acc.reserve("forward", "openai", "m")
    acc.record("forward", "openai", "m", Usage(prompt_tokens=100))
    with pytest.raises(BudgetExceeded, match="max_tokens"):
        acc.reserve("forward", "openai", "m")
    dollars = Accounting(Budget(max_usd=1.0), prices={"m": (1e6, 0.0)})
    dollars.reserve("optimizer", "openai", "m")
    dollars.record("optimizer", "openai", "m", Usage(prompt_tokens=1))
    with pytest.raises(BudgetExceeded, match=r"max_usd"):
        dollars.reserve("judge", "openai", "m")


def test_purpose_budget_only_stops_that_purpose() -> None:
    acc = Accounting(purpose_budgets={"judge": Budget(max_calls=1)})
    acc.reserve("judge", "sim", "sim")
    with pytest.raises(BudgetExceeded, match="purpose 'judge'") as info:
        acc.reserve("judge", "sim", "sim")
    assert info.value.purpose == "judge"
    acc.reserve("forward", "sim", "sim")


def test_dollar_budget_needs_a_price() -> None:
    acc = Accounting(Budget(max_usd=1))
    with pytest.raises(LLMConfigError, match="prices="):
        acc.reserve("forward", "openai", "mystery-model")


def test_concurrent_reservations_never_exceed_the_call_cap() -> None:
    acc = Accounting(Budget(max_calls=37))
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            try:
                acc.reserve("forward", "sim", "sim")
            except BudgetExceeded:
                continue
            with lock:
                granted.append(1)
            acc.record("forward", "sim", "sim", Usage())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 37 == acc.spent().calls


def test_state_round_trip_keeps_the_budget_across_a_resume() -> None:
    import json

    first = Accounting(Budget(max_calls=3))
    for purpose in ("forward", "judge"):
        first.reserve(purpose, "sim", "sim")
        first.record(purpose, "sim", "sim", Usage(prompt_tokens=2, completion_tokens=1))
    state = json.loads(json.dumps(first.state_dict()))  # a checkpoint is plain JSON
    resumed = Accounting(Budget(max_calls=3))
    resumed.load_state_dict(state)
    assert resumed.summary() == first.summary()
    resumed.reserve("forward", "sim", "sim")
    with pytest.raises(BudgetExceeded):
        resumed.reserve("forward", "sim", "sim")
    with pytest.raises(LLMConfigError, match="state_dict"):
        resumed.load_state_dict({"by_purpose": {"x": {"bogus": 1}}})
