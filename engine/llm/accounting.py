"""Accounting per purpose (forward, optimizer, judge, ...) and hard budgets.

Every call is recorded under a purpose: calls, cache hits, tokens and dollars.
A `Budget` caps calls, tokens or dollars, overall or for one purpose. It is checked
*before* a request is sent (`reserve`), so a run stops with `BudgetExceeded`
between calls, never in the middle of one, and nothing is half-written. Calls are
reserved atomically, so N concurrent callers never send more than `max_calls`;
tokens and dollars are only known after a reply, so concurrent calls already in
flight when a token or dollar cap is reached may overshoot it by their own usage.
Cache hits cost nothing and are counted apart (`cache_hits`).
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


class Accounting:
    """Thread-safe ledger of spend per purpose, with optional budgets.

    One `Accounting` can be shared by several `LLM` clients (say the agent's model
    and the optimizer's), so that one budget covers the whole run.
    """

    def __init__(self, budget: Budget | None = None, *,
                 purpose_budgets: Mapping[str, Budget] | None = None,
                 prices: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.budget = budget
        self.purpose_budgets = dict(purpose_budgets or {})
        self.prices = {**DEFAULT_PRICES, **(prices or {})}
        self._custom = dict(prices or {})
        self._by_purpose: dict[str, Spend] = {}
        self._in_flight: dict[str, int] = {}
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

    def _check(self, budget: Budget, spent: Spend, in_flight: int, purpose: str | None) -> None:
        for limit, cap, used in (("max_calls", budget.max_calls, spent.calls + in_flight),
                                 ("max_tokens", budget.max_tokens, spent.total_tokens),
                                 ("max_usd", budget.max_usd, spent.cost_usd)):
            if cap is not None and used >= cap:
                raise BudgetExceeded(limit, cap, purpose, self._total_locked().to_dict(),
                                     {k: v.to_dict() for k, v in self._by_purpose.items()})

    def reserve(self, purpose: str, provider: str, model: str) -> None:
        """Claim one call under the budgets, or raise `BudgetExceeded` (nothing sent)."""
        with self._lock:
            for budget in (self.budget, self.purpose_budgets.get(purpose)):
                if budget is not None and budget.max_usd is not None \
                        and self.price(provider, model) is None:
                    raise LLMConfigError(
                        f"a dollar budget is set but model {model!r} has no price; "
                        f"pass prices={{{model!r}: (usd_in_per_mtok, usd_out_per_mtok)}}")
            if self.budget is not None:
                self._check(self.budget, self._total_locked(),
                            sum(self._in_flight.values()), None)
            if (own := self.purpose_budgets.get(purpose)) is not None:
                self._check(own, self._spend(purpose), self._in_flight.get(purpose, 0), purpose)
            self._in_flight[purpose] = self._in_flight.get(purpose, 0) + 1

    def record(self, purpose: str, provider: str, model: str, usage: Usage) -> float:
        """Book a completed call (ending its reservation); return its cost in USD."""
        cost = self.cost(provider, model, usage)
        with self._lock:
            self._in_flight[purpose] = max(0, self._in_flight.get(purpose, 0) - 1)
            spend = self._spend(purpose)
            spend.calls += 1
            spend.prompt_tokens += usage.prompt_tokens
            spend.completion_tokens += usage.completion_tokens
            spend.cost_usd += cost
        return cost

    def record_failure(self, purpose: str, *, error: bool = True) -> None:
        """End a reservation whose call failed (`error`) or was cancelled: nothing billed."""
        with self._lock:
            self._in_flight[purpose] = max(0, self._in_flight.get(purpose, 0) - 1)
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
