"""Every attempt the provider sees, a retry too, is granted by the rate limiter first.

Against the sim-server with injected failures (429s, a connection cut mid-reply) and
its own requests-per-minute limit: the number of completion requests the server saw
equals the number of grants the client's limiter gave, and a retry waits the server's
`retry-after` and then its own grant. Checks count requests at the server; the only
timing checks are lower bounds (a sleep never ends early), never wall-clock ceilings.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from undertow.bench.sim.server import running_server
from undertow.engine.llm import Limiter, RateLimiter, RetryPolicy, make_llm

COMPLETIONS = "/v1/chat/completions"


class CountingLimiter:
    """A real `RateLimiter` that also counts its grants and remembers the waits it gave."""

    def __init__(self, rpm: float | None = None, burst: float | None = None,
                 waits: list[float] | None = None) -> None:
        self.inner = RateLimiter(rpm, burst=burst) if rpm else None
        self.scripted = list(waits or [])  # extra waits to hand out, one per grant
        self.grants: list[float] = []
        self.lock = threading.Lock()

    def reserve(self, tokens: int = 0) -> float:
        with self.lock:
            wait = self.inner.reserve(tokens) if self.inner is not None else 0.0
            if self.scripted:
                wait += self.scripted.pop(0)
            self.grants.append(wait)
            return wait

    def settle(self, estimated: int, actual: int) -> None:
        if self.inner is not None:
            self.inner.settle(estimated, actual)


def _client(srv, limiter: CountingLimiter, retries: int = 3):
    llm = make_llm(f"openai-compatible:{srv.openai_base_url}#sim", cache_dir=False,
                   retry=RetryPolicy(max_retries=retries, base_delay=0.0, jitter=0.0))
    llm.rate_limiter = limiter
    return llm


def _sent(srv) -> int:
    return int(srv.stats()["by_path"].get(COMPLETIONS, 0))


def test_the_counting_limiter_is_a_limiter():
    assert isinstance(CountingLimiter(), Limiter)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("fault", [
    {"kind": "status", "status": 429, "times": 2, "retry_after_ms": 0},
    {"kind": "status", "status": 503, "times": 2},
    {"kind": "truncate", "times": 2},
])
def test_each_retry_is_granted_by_the_limiter_before_it_is_sent(mode, fault):
    limiter = CountingLimiter()
    with running_server(None, fault) as srv:
        llm = _client(srv, limiter)
        if mode == "sync":
            reply = llm.complete("Sort these words: pear apple")
        else:
            reply = asyncio.run(llm.acomplete("Sort these words: pear apple"))
        sent = _sent(srv)
        llm.close()
    assert reply.attempts == 3
    assert sent == len(limiter.grants) == 3   # two failed attempts and the one that got through


def test_retries_that_run_out_were_each_granted():
    limiter = CountingLimiter()
    with running_server(None, {"kind": "status", "status": 429, "retry_after_ms": 0}) as srv:
        llm = _client(srv, limiter, retries=2)
        with pytest.raises(Exception, match="429"):
            llm.complete("Sort these words: b a")
        sent = _sent(srv)
        llm.close()
    assert sent == len(limiter.grants) == 3


def test_a_retry_waits_the_servers_retry_after_and_then_its_own_grant():
    """The limiter's wait comes on top of the server's retry-after (both, not the larger):
    the second attempt reaches the server at least retry-after + the granted wait after
    the first."""
    retry_after_s, granted_s = 0.3, 0.25
    limiter = CountingLimiter(waits=[0.0, granted_s])
    with running_server(None, {"kind": "status", "status": 429, "times": 1,
                               "retry_after_ms": int(retry_after_s * 1000)}) as srv:
        llm = _client(srv, limiter)
        reply = llm.complete("Sort these words: kiwi fig")
        arrivals = [t for t, _ in srv.arrivals()]
        llm.close()
    assert reply.attempts == 2 and limiter.grants == [0.0, granted_s]
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= retry_after_s + granted_s - 0.01  # 10 ms for clock rounding


def test_retries_from_parallel_callers_stay_under_the_servers_rpm():
    """The server lets 2 requests a second through (burst 2); the shared limiter grants one
    at once then one each half second. Injected 429s (retry-after 0) make three callers
    retry: the retries wait their turn at the limiter, so the server's own rpm limit never
    refuses one. (Before retries re-asked the limiter, they went at once and the server
    refused them: `rate_limited` > 0 and more requests than grants.)"""
    limiter = CountingLimiter(rpm=120, burst=1)
    with running_server(None, {"kind": "status", "status": 429, "times": 2, "retry_after_ms": 0},
                        rpm=120, rpm_burst=2) as srv:
        llm = _client(srv, limiter)
        replies: list[int] = []

        def one(i: int) -> None:
            replies.append(llm.complete(f"Sort these words: w{i} a{i}").attempts)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = srv.stats()
        llm.close()
    assert len(replies) == 3 and sum(replies) == 3 + 2        # three answers, two retries
    assert stats["by_path"][COMPLETIONS] == len(limiter.grants) == 5
    assert stats["rate_limited"] == 0


def test_a_held_limiter_grants_nobody_until_the_hold_ends():
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])  # no rate limits at all: only the hold binds
    assert limiter.reserve() == 0.0
    limiter.hold(5.0)
    assert limiter.reserve() == pytest.approx(5.0)
    now[0] += 2.0
    limiter.hold(1.0)                     # a shorter hold never shortens the current one
    assert limiter.reserve() == pytest.approx(3.0)
    now[0] += 3.0
    assert limiter.reserve() == 0.0


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("fault, held", [
    ({"kind": "status", "status": 429, "times": 1, "retry_after_ms": 30_000}, True),
    ({"kind": "status", "status": 503, "times": 1}, False),   # no retry-after: no hold
])
def test_a_refusals_retry_after_holds_the_limiter_for_every_caller_sharing_it(fault, held, mode):
    """Client A meets a 429 with retry-after 30 s: the shared limiter then makes any other
    caller (B, which saw no 429) wait that out too, instead of sending into the limit."""
    shared = RateLimiter()
    with running_server(None, fault) as srv:
        a = make_llm(f"openai-compatible:{srv.openai_base_url}#sim", cache_dir=False,
                     retry=RetryPolicy(max_retries=0))
        a.rate_limiter = shared
        with pytest.raises(Exception, match=str(fault["status"])):
            if mode == "sync":
                a.complete("Sort these words: pear apple")
            else:
                asyncio.run(a.acomplete("Sort these words: pear apple"))
        a.close()
    if held:
        assert shared.reserve() > 25.0    # B's grant: most of the 30 s remain (no ceiling checked)
    else:
        assert shared.reserve() == 0.0
