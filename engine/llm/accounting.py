"""Accounting per purpose (forward, optimizer, judge, ...) and hard budgets.

Every call is recorded under a purpose: calls, cache hits, tokens and dollars.
A `Budget` caps calls, tokens or dollars, overall or for one purpose. Caps are hard:
before a request is sent, `reserve` books its worst case — one call, and its prompt
tokens (an upper bound) plus its `max_tokens`, priced — next to what was spent and
what calls in flight have reserved, and refuses with `BudgetExceeded` a call that
could cross a cap. A request without `max_tokens` under a token or dollar cap is
given one: the room left, at most `completion_reserve` tokens (see
`Reservation.max_tokens`). When the reply arrives, `record` settles the reservation
with the real usage. So a run stops between calls, never in the middle of one, and
never overshoots, whatever the concurrency. Cache hits cost nothing and are counted
apart (`cache_hits`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from pydantic import BaseModel, ConfigDict, Field
from undertow.engine.llm.errors import LLMConfigError, LLMError
from undertow.engine.llm.prices import BUILTIN_PRICES, lookup_litellm
from undertow.engine.llm.types import Usage

#: The built-in table (USD per million tokens, input and output); LiteLLM's table is
#: preferred when LiteLLM is installed (`undertow.engine.llm.prices`). A model matches
#: its entry or the longest entry that prefixes it ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini").
DEFAULT_PRICES = BUILTIN_PRICES
#: Providers whose unknown models cost nothing (local servers, the simulator).
FREE_PROVIDERS = frozenset({"sim", "openai-compatible"})


class Budget(BaseModel):
    """Caps on calls, tokens (prompt + completion) and dollars; None means no cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_calls: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    max_usd: float | None = Field(default=None, ge=0)


@dataclass
class Spend:
    """What was spent: calls sent, cache hits (free), failed calls, tokens, dollars."""

    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, float | int]:
        """Plain JSON-ready dict, total tokens included."""
        return {**asdict(self), "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class Reservation:
    """What `reserve` booked for one call: held until `record`/`record_failure` settle it.

    `max_tokens` is the completion limit the call must be sent with (None: the request's
    own, or no cap applies).
    """

    purpose: str
    tokens: int = 0
    usd: float = 0.0
    max_tokens: int | None = None


class BudgetExceeded(LLMError):
    """A budget cap was reached; no request was sent.

    `limit` names the cap ("max_calls", "max_tokens" or "max_usd"), `purpose` is the
    purpose whose budget stopped (None: the overall budget), `spent` the total spend
    and `by_purpose` the spend of each purpose, all as plain dicts.
    """

    def __init__(self, limit: str, cap: float, purpose: str | None,
                 spent: dict[str, float | int], by_purpose: dict[str, dict[str, float | int]]) -> None:
        self.limit, self.cap, self.purpose = limit, cap, purpose
        self.spent, self.by_purpose = spent, by_purpose
        scope = f"budget of purpose {purpose!r}" if purpose else "budget"
        super().__init__(
            f"{scope} exhausted: {limit}={cap} reached (spent {spent['calls']} calls, "
            f"{spent['total_tokens']} tokens, ${spent['cost_usd']:.4f}); no request was sent. "
            "Raise the budget to go on.")

    def __reduce__(self) -> tuple:  # picklable: a worker process can report it
        return (type(self), (self.limit, self.cap, self.purpose, self.spent, self.by_purpose))


class Accounting:
    """Thread-safe ledger of spend per purpose, with optional budgets.

    One `Accounting` can be shared by several `LLM` clients (say the agent's model
    and the optimizer's), so that one budget covers the whole run.
    """

    def __init__(self, budget: Budget | None = None, *,
                 purpose_budgets: Mapping[str, Budget] | None = None,
                 prices: Mapping[str, tuple[float, float]] | None = None,
                 completion_reserve: int = 2048) -> None:
        if completion_reserve < 1:
            raise LLMConfigError(f"completion_reserve must be >= 1, got {completion_reserve}")
        self.budget = budget
        self.purpose_budgets = dict(purpose_budgets or {})
        self.prices = {**DEFAULT_PRICES, **(prices or {})}
        self.completion_reserve = completion_reserve
        self._custom = dict(prices or {})
        self._by_purpose: dict[str, Spend] = {}
        self._in_flight: dict[str, int] = {}
        self._held_tokens: dict[str, int] = {}
        self._held_usd: dict[str, float] = {}
        self._lock = threading.Lock()

    # prices ---------------------------------------------------------------
    def price(self, provider: str, model: str) -> tuple[float, float] | None:
        """(input, output) USD per million tokens for a model; None if unknown.

        Prices given to this `Accounting` come first, then LiteLLM's table (when
        installed), then the built-in table.
        """
        found = self._custom.get(model)
        if found is None and provider not in FREE_PROVIDERS:
            found = lookup_litellm(provider, model)
        if found is None:
            found = self.prices.get(model)
        if found is None:
            prefixes = [name for name in self.prices if model.startswith(name)]
            if prefixes:
                found = self.prices[max(prefixes, key=len)]
        if found is None and provider in FREE_PROVIDERS:
            return (0.0, 0.0)
        return found

    def cost(self, provider: str, model: str, usage: Usage) -> float:
        """Dollars for `usage` of `model` (0 for unknown models without a dollar cap)."""
        price = self.price(provider, model)
        if price is None:
            return 0.0
        return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6

    # budgets ---------------------------------------------------------------
    def _spend(self, purpose: str) -> Spend:
        return self._by_purpose.setdefault(purpose, Spend())

    def _total_locked(self) -> Spend:
        total = Spend()
        for spend in self._by_purpose.values():
            for name in ("calls", "cache_hits", "errors", "prompt_tokens", "completion_tokens"):
                setattr(total, name, getattr(total, name) + getattr(spend, name))
            total.cost_usd += spend.cost_usd
        return total

    def _refuse(self, limit: str, cap: float, purpose: str | None) -> BudgetExceeded:
        return BudgetExceeded(limit, cap, purpose, self._total_locked().to_dict(),
                              {k: v.to_dict() for k, v in self._by_purpose.items()})

    def _room(self, budget: Budget, scope: str | None, prompt_tokens: int, max_tokens: int | None,
              price: tuple[float, float] | None) -> int | None:
        """Check one budget for a call; return the most completion tokens it allows (None: any)."""
        if scope is None:
            spent, calls = self._total_locked(), sum(self._in_flight.values())
            held_t, held_u = sum(self._held_tokens.values()), sum(self._held_usd.values())
        else:
            spent, calls = self._spend(scope), self._in_flight.get(scope, 0)
            held_t, held_u = self._held_tokens.get(scope, 0), self._held_usd.get(scope, 0.0)
        if budget.max_calls is not None and spent.calls + calls >= budget.max_calls:
            raise self._refuse("max_calls", budget.max_calls, scope)
        allowed: int | None = None
        if budget.max_tokens is not None:
            room = budget.max_tokens - spent.total_tokens - held_t - prompt_tokens
            if room < 1 or (max_tokens is not None and max_tokens > room):
                raise self._refuse("max_tokens", budget.max_tokens, scope)
            allowed = room
        if budget.max_usd is not None:
            p_in, p_out = price or (0.0, 0.0)
            room_usd = budget.max_usd - spent.cost_usd - held_u - prompt_tokens * p_in / 1e6
            worst = (max_tokens or 0) * p_out / 1e6
            if room_usd <= 0 or worst > room_usd:
                raise self._refuse("max_usd", budget.max_usd, scope)
            if p_out > 0:
                by_usd = int(room_usd * 1e6 / p_out)
                if by_usd < 1:
                    raise self._refuse("max_usd", budget.max_usd, scope)
                allowed = by_usd if allowed is None else min(allowed, by_usd)
        return allowed

    def reserve(self, purpose: str, provider: str, model: str, *, prompt_tokens: int = 0,
                max_tokens: int | None = None) -> Reservation:
        """Book one call's worst case under the budgets, or raise `BudgetExceeded` (nothing sent).

        `prompt_tokens` is an upper bound of the request's prompt; `max_tokens` its
        completion limit. With a token or dollar cap and no `max_tokens`, the returned
        reservation's `max_tokens` is the limit to send the call with.
        """
        with self._lock:
            price = self.price(provider, model)
            budgets = [(b, scope) for b, scope in ((self.budget, None),
                                                   (self.purpose_budgets.get(purpose), purpose))
                       if b is not None]
            for budget, _ in budgets:
                if budget.max_usd is not None and price is None:
                    raise LLMConfigError(
                        f"a dollar budget is set but model {model!r} has no price; "
                        f"pass prices={{{model!r}: (usd_in_per_mtok, usd_out_per_mtok)}}")
            allowed: int | None = None
            for budget, scope in budgets:
                room = self._room(budget, scope, prompt_tokens, max_tokens, price)
                if room is not None:
                    allowed = room if allowed is None else min(allowed, room)
            send_max = max_tokens
            if max_tokens is None and allowed is not None:
                send_max = min(allowed, self.completion_reserve)
            tokens = prompt_tokens + (send_max or 0)
            p_in, p_out = price or (0.0, 0.0)
            usd = (prompt_tokens * p_in + (send_max or 0) * p_out) / 1e6
            self._in_flight[purpose] = self._in_flight.get(purpose, 0) + 1
            self._held_tokens[purpose] = self._held_tokens.get(purpose, 0) + tokens
            self._held_usd[purpose] = self._held_usd.get(purpose, 0.0) + usd
            return Reservation(purpose, tokens, usd, send_max if max_tokens is None else None)

    def _release(self, purpose: str, reservation: Reservation | None) -> None:
        self._in_flight[purpose] = max(0, self._in_flight.get(purpose, 0) - 1)
        if reservation is not None:
            self._held_tokens[purpose] = max(0, self._held_tokens.get(purpose, 0) - reservation.tokens)
            self._held_usd[purpose] = max(0.0, self._held_usd.get(purpose, 0.0) - reservation.usd)

    def record(self, purpose: str, provider: str, model: str, usage: Usage,
               reservation: Reservation | None = None) -> float:
        """Book a completed call, settling its reservation with the real usage; return its cost."""
        cost = self.cost(provider, model, usage)
        with self._lock:
            self._release(purpose, reservation)
            spend = self._spend(purpose)
            spend.calls += 1
            spend.prompt_tokens += usage.prompt_tokens
            spend.completion_tokens += usage.completion_tokens
            spend.cost_usd += cost
        return cost

    def record_failure(self, purpose: str, *, error: bool = True,
                       reservation: Reservation | None = None) -> None:
        """End a reservation whose call failed (`error`) or was cancelled: nothing billed."""
        with self._lock:
            self._release(purpose, reservation)
            if error:
                self._spend(purpose).errors += 1

    def record_hit(self, purpose: str) -> None:
        """Book a cache hit: free, and not a call."""
        with self._lock:
            self._spend(purpose).cache_hits += 1

    # checkpoints --------------------------------------------------------------
    def state_dict(self) -> dict[str, object]:
        """The spend so far as plain JSON, for checkpoints (no keys, no prices)."""
        with self._lock:
            return {"by_purpose": {k: asdict(v) for k, v in self._by_purpose.items()}}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore the spend of a checkpoint, so a resumed run keeps counting against
        its budget from where it stopped."""
        by_purpose = state.get("by_purpose")
        if not isinstance(by_purpose, Mapping):
            raise LLMConfigError("an accounting state needs a 'by_purpose' mapping "
                                 "(pass what state_dict() returned)")
        try:
            restored = {str(k): Spend(**v) for k, v in by_purpose.items()}
        except TypeError as exc:
            raise LLMConfigError(f"bad accounting state: {exc}; pass what state_dict() "
                                 "returned") from None
        with self._lock:
            self._by_purpose = restored

    # reports -----------------------------------------------------------------
    def spent(self, purpose: str | None = None) -> Spend:
        """A copy of the spend of one purpose, or of all of them together."""
        with self._lock:
            if purpose is None:
                return self._total_locked()
            return Spend(**asdict(self._by_purpose.get(purpose, Spend())))

    def summary(self) -> dict[str, object]:
        """{"total": {...}, "by_purpose": {purpose: {...}}} as plain JSON."""
        with self._lock:
            return {"total": self._total_locked().to_dict(),
                    "by_purpose": {k: v.to_dict() for k, v in sorted(self._by_purpose.items())}}
