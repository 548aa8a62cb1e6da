"""Retries: exponential backoff with jitter, honouring `retry-after`/`retry-after-ms`.

The SDKs' own retries are switched off (`max_retries=0`) so that every backend
retries the same way, here. A retryable error is one whose `retryable` flag is set
(timeouts, dropped connections) or whose HTTP status is in `retry_statuses`.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

from undertow.engine.llm.errors import LLMAPIError, LLMError, RetriesExhaustedError

T = TypeVar("T")

DEFAULT_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` headers; None if absent.

    `retry-after` may be seconds or an HTTP date. Garbage gives None, never an error,
    since headers come from the network.
    """
    if not headers:
        return None
    try:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    except Exception:  # noqa: BLE001 - a broken mapping from the network: no hint
        return None
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            seconds = float(value.strip()) * scale
        except ValueError:
            if scale != 1.0:
                continue
            try:
                when = parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
            seconds = when - (time.time() if now is None else now)
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
        if seconds < 0:  # a date in the past: go now
            return 0.0
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between attempts.

    The wait before retry k (k = 0, 1, ...) is `base_delay * multiplier**k`, capped
    at `max_delay`, minus a random `jitter` fraction so that parallel clients spread
    out; a server's `retry-after` replaces it (capped at `max_retry_after`).
    """

    max_retries: int = 3
    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 20.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter is a fraction in [0, 1], got {self.jitter}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be >= 0")

    def is_retryable(self, error: LLMError) -> bool:
        """Whether `error` is worth another attempt under this policy."""
        if isinstance(error, LLMAPIError) and error.status is not None:
            return error.retryable or error.status in self.retry_statuses
        return bool(error.retryable)

    def delay(self, retry: int, error: LLMError | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `retry` (0-based) after `error`."""
        hint = getattr(error, "retry_after", None)
        if hint is not None:
            return min(float(hint), self.max_retry_after)
        backoff = min(self.max_delay, self.base_delay * self.multiplier ** retry)
        return backoff * (1.0 - self.jitter * (rng or random).random())


def retry_call(fn: Callable[[], T], policy: RetryPolicy, *,
               sleep: Callable[[float], None] = time.sleep) -> tuple[T, int]:
    """Call `fn` until it succeeds or retries run out; return (result, attempts)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except LLMError as error:
            if not policy.is_retryable(error):
                raise
            if attempt > policy.max_retries:
                raise RetriesExhaustedError(error, attempt) from error
            sleep(policy.delay(attempt - 1, error))


async def aretry_call(fn: Callable[[], Awaitable[T]], policy: RetryPolicy, *,
                      sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
                      ) -> tuple[T, int]:
    """Async twin of `retry_call`."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn(), attempt
        except LLMError as error:
            if not policy.is_retryable(error):
                raise
            if attempt > policy.max_retries:
                raise RetriesExhaustedError(error, attempt) from error
            await sleep(policy.delay(attempt - 1, error))
