"""Pluggable rate limits and spend ledgers for the `LLM` client.

The client needs two small things from whatever limits it beyond its own process:

- a `Limiter`: `reserve(tokens)` books one request (and an estimate of its tokens)
  and answers how many seconds the caller must wait before sending it;
  `settle(estimated, actual)` corrects the token estimate once the reply is in.
  The client asks before every attempt the provider will see, so a retry (after a
  429 or a dropped connection) waits the server's `retry-after` and then for a grant
  of its own; a failed attempt keeps the tokens it reserved (the provider may have
  counted them), only the reply that comes back is settled. A limiter may also have
  `hold(seconds)`: the client calls it with the provider's `retry-after` when an
  attempt is refused, so that no caller sharing the limiter is granted before then.
  `RateLimiter` (this package) is one, for one process; the bench provides one shared
  by every worker of a sweep (a manager process locally, a named Ray actor on Ray).
- a `SpendLedger`: `admit(purpose)` may refuse a call before anything is booked (by
  raising `BudgetExceeded`), and `book(purpose, usage, cost_usd)` is told of every call
  the client's own `Accounting` books, so spend can be summed across processes.

Both are Protocols, so the engine imports none of their implementations (the
dependency points from the bench to the engine). The waiting itself happens in the
client, so a limiter answers at once and never holds a lock or a connection while a
caller sleeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from undertow.engine.llm.types import Usage
from undertow.engine.tokens import estimate_tokens


def hold_for(limiter: Limiter | None, seconds: float | None, cap: float) -> None:
    """Pass a refusal's `retry-after` (seconds, None when it gave none; capped at `cap`)
    to `limiter`'s `hold`, when it has one: every caller sharing the limiter then waits
    it out. Our clients and the peers' gateway hold by this one rule."""
    hold = getattr(limiter, "hold", None)
    if hold is not None and isinstance(seconds, (int, float)) and seconds > 0:
        hold(min(float(seconds), cap))


def request_tokens(contents: Iterable[str], max_tokens: int | None) -> int:
    """The tokens a request reserves of a limiter before it is sent: its messages'
    estimated tokens plus the reply's cap (`settle` corrects it to the real count).
    Our clients and the peers' gateway reserve by this one rule."""
    return sum(estimate_tokens(c) for c in contents) + (max_tokens or 0)


@runtime_checkable
class Limiter(Protocol):
    """Grants requests under rate limits: see the module docstring."""

    def reserve(self, tokens: int = 0) -> float:
        """Book one request of about `tokens` tokens; return the seconds to wait before sending it."""
        ...

    def settle(self, estimated: int, actual: int) -> None:
        """Replace a reservation's token estimate by the real count."""
        ...


@runtime_checkable
class SpendLedger(Protocol):
    """Sees every booked call of a client, and may refuse new ones."""

    def admit(self, purpose: str) -> None:
        """Raise `BudgetExceeded` to refuse the next call of `purpose` (nothing is sent)."""
        ...

    def book(self, purpose: str, usage: Usage, cost_usd: float) -> None:
        """Record one call the client booked (sent, or a cache hit booked at its nominal size)."""
        ...
