"""Rate limiter: requests and tokens per minute, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.llm import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=60, clock=clock)
    assert [limiter.reserve() for _ in range(60)] == [0.0] * 60   # a full bucket
    assert limiter.reserve() == pytest.approx(1.0)                  # then 1 per second
    assert limiter.reserve() == pytest.approx(2.0)
    clock.now = 10.0
    assert limiter.reserve() == 0.0


def test_tokens_per_minute_and_settling() -> None:
    clock = Clock()
    limiter = RateLimiter(tokens_per_minute=600, clock=clock)
    assert limiter.reserve(600) == 0.0
    assert limiter.reserve(100) == pytest.approx(10.0)   # 10 tokens a second
    limiter.settle(estimated=100, actual=0)               # the call used none after all
    assert limiter.reserve(10) == pytest.approx(1.0)


def test_bad_limits() -> None:
    with pytest.raises(ValueError, match="> 0"):
        RateLimiter(requests_per_minute=-5)


@given(st.floats(1, 10_000), st.lists(st.floats(0, 5), max_size=50))
def test_never_more_than_the_rate_over_a_window(rpm: float, gaps: list[float]) -> None:
    """Requests admitted by time t never exceed capacity + rate * t."""
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=rpm, clock=clock)
    sends = []
    for gap in gaps:
        clock.now += gap
        sends.append(clock.now + limiter.reserve())
    for i, t in enumerate(sends):
        assert i + 1 <= rpm + rpm / 60 * t + 1e-6


def test_burst_spreads_calls_evenly() -> None:
    clock = Clock()
    limiter = RateLimiter(requests_per_minute=600, burst=1, clock=clock)
    assert [round(limiter.reserve(), 6) for _ in range(4)] == [0.0, 0.1, 0.2, 0.3]


def test_client_waits_for_the_limiter() -> None:
    """Through the real client and the sim backend: 6 calls at 20/s, burst 1 >= 0.25 s."""
    import asyncio
    import time

    from undertow.engine.llm import LLM
    from undertow.bench.sim.backend import SimBackend

    llm = LLM(SimBackend(), model="sim",
              rate_limiter=RateLimiter(requests_per_minute=1200, burst=1))
    started = time.perf_counter()
    for i in range(3):
        llm.complete(f"call {i}")
    asyncio.run(llm.acomplete_many([f"async call {i}" for i in range(3)]))
    assert time.perf_counter() - started >= 0.25
