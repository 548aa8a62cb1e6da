"""Retry policy: backoff, jitter, retry-after headers, and the retry loops."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.llm import (
    LLMAPIError,
    LLMTimeoutError,
    MalformedResponseError,
    RetriesExhaustedError,
    RetryPolicy,
    parse_retry_after,
)
from undertow.engine.llm.retry import aretry_call, retry_call


def test_retry_after_headers() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"Retry-After": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "junk", "retry-after": "3"}) == 3.0
    assert parse_retry_after({}) is None and parse_retry_after(None) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "nan"}) is None
    now = 1_700_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 30, tz=UTC), usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    past = format_datetime(datetime.fromtimestamp(now - 30, tz=UTC), usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0


@given(st.dictionaries(st.sampled_from(["retry-after", "retry-after-ms", "x"]) | st.text(max_size=12),
                       st.text(max_size=40), max_size=4))
def test_retry_after_parser_never_raises(headers: dict[str, str]) -> None:
    value = parse_retry_after(headers)
    assert value is None or 0 <= value < float("inf")


@given(st.integers(0, 30), st.floats(0, 1), st.floats(0.001, 5), st.integers(0, 2**32))
def test_backoff_grows_within_bounds(retry: int, jitter: float, base: float, seed: int) -> None:
    policy = RetryPolicy(base_delay=base, jitter=jitter, max_delay=20.0)
    delay = policy.delay(retry, rng=random.Random(seed))
    ceiling = min(20.0, base * 2.0 ** retry)
    assert ceiling * (1 - jitter) - 1e-9 <= delay <= ceiling + 1e-9


def test_retry_after_replaces_backoff_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=10, max_retry_after=5)
    assert policy.delay(0, LLMAPIError("x", status=429, retry_after=0.2)) == 0.2
    assert policy.delay(0, LLMAPIError("x", status=429, retry_after=100)) == 5


def test_what_is_retried() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(LLMAPIError("x", status=429))
    assert policy.is_retryable(LLMAPIError("x", status=529))
    assert not policy.is_retryable(LLMAPIError("x", status=400))
    assert policy.is_retryable(LLMTimeoutError("t"))
    assert not policy.is_retryable(MalformedResponseError("m"))


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2)


class Flaky:
    """Fails with `errors` in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retry_loop_waits_as_told_then_succeeds() -> None:
    waits: list[float] = []
    fn = Flaky(LLMAPIError("slow down", status=429, retry_after=1.5), LLMTimeoutError("t"))
    result, attempts = retry_call(fn, RetryPolicy(base_delay=0.1, jitter=0), sleep=waits.append)
    assert (result, attempts, fn.calls) == ("ok", 3, 3)
    assert waits == [1.5, 0.2]


def test_retry_loop_gives_up_clearly() -> None:
    fn = Flaky(*[LLMAPIError("boom", status=500)] * 5)
    with pytest.raises(RetriesExhaustedError, match="gave up after 3 attempt") as info:
        retry_call(fn, RetryPolicy(max_retries=2), sleep=lambda s: None)
    assert info.value.attempts == 3 and info.value.status == 500 and fn.calls == 3


def test_non_retryable_errors_pass_through_at_once() -> None:
    fn = Flaky(LLMAPIError("bad request", status=400))
    with pytest.raises(LLMAPIError, match="bad request"):
        retry_call(fn, RetryPolicy(), sleep=lambda s: None)
    assert fn.calls == 1


def test_async_retry_loop() -> None:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    fn = Flaky(LLMAPIError("x", status=503, retry_after=0.01))

    async def call() -> str:
        return fn()

    assert asyncio.run(aretry_call(call, RetryPolicy(), sleep=sleep)) == ("ok", 2)
    assert waits == [0.01]
