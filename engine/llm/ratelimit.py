"""Client-side rate limits: requests per minute and tokens per minute.

Two token buckets that refill continuously. `reserve` takes capacity at once (going
into debt if needed) and returns how long the caller must wait, so the same limiter
serves threads (`acquire`, which sleeps) and asyncio tasks (`aacquire`, which awaits)
and never holds a lock while waiting. Callers are served in arrival order.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class _Bucket:
    """Capacity `burst` (default: a minute's worth), refilled at `per_minute / 60` a second."""

    __slots__ = ("capacity", "level", "rate", "stamp")

    def __init__(self, per_minute: float, now: float, burst: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError(f"a rate limit must be > 0 per minute, got {per_minute}")
        if burst is not None and burst <= 0:
            raise ValueError(f"burst must be > 0, got {burst}")
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute if burst is None else burst)
        self.level = self.capacity
        self.stamp = now

    def take(self, amount: float, now: float) -> float:
        """Take `amount` now; return the seconds until the bucket is out of debt."""
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        self.level -= min(amount, self.capacity)  # one huge request must not block forever
        return 0.0 if self.level >= 0 else -self.level / self.rate

    def give_back(self, amount: float) -> None:
        self.level = min(self.capacity, self.level + amount)


class RateLimiter:
    """Limits on requests and tokens per minute (either may be None: unlimited).

    `burst` caps how many requests may go at once after an idle spell (default: a
    minute's worth, as providers count); smaller values spread calls evenly.
    """

    def __init__(self, requests_per_minute: float | None = None,
                 tokens_per_minute: float | None = None, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        now = clock()
        self._requests = _Bucket(requests_per_minute, now, burst) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute, now) if tokens_per_minute else None
        self._hold_until = now
        self._lock = threading.Lock()

    def reserve(self, tokens: int = 0) -> float:
        """Reserve one request and `tokens` tokens; return the seconds to wait first."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._hold_until - now)
            if self._requests is not None:
                wait = max(wait, self._requests.take(1, now))
            if self._tokens is not None and tokens:
                wait = max(wait, self._tokens.take(tokens, now))
            return wait

    def hold(self, seconds: float) -> None:
        """Grant nothing for the next `seconds` (a provider's `retry-after`: while one
        caller waits it out, the others must not keep sending into the same limit)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + max(0.0, seconds))

    def settle(self, estimated: int, actual: int) -> None:
        """Correct a reservation once the real token count is known."""
        if self._tokens is None or estimated == actual:
            return
        with self._lock:
            if actual < estimated:
                self._tokens.give_back(estimated - actual)
            else:
                self._tokens.level -= actual - estimated

    def acquire(self, tokens: int = 0) -> float:
        """Block the thread until the request may go; return the seconds waited."""
        wait = self.reserve(tokens)
        if wait > 0:
            time.sleep(wait)
        return wait

    async def aacquire(self, tokens: int = 0) -> float:
        """Await until the request may go; return the seconds waited."""
        wait = self.reserve(tokens)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
