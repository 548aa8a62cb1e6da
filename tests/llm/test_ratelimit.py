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
