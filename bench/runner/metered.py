"""LLM clients for bench runs, whose spend does not depend on the cache.

A plain `LLM` books a cache hit as free and not a call. In a benchmark that would
make budgets depend on what earlier runs left in the cache, and a resumed run (whose
re-done calls are cache hits) would end with a different spend than an unkilled
one. `MeteredLLM` books every request at its nominal size and price, hit or not,
and checks the budget before each; the reply still says `cached=True` and the
provider is still not called again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from undertow.bench.runner.limits import RunLedger, SharedLimiter, limits_key
from undertow.engine.llm import (
    LLM,
    Accounting,
    Budget,
    LLMRequest,
    LLMResponse,
    make_backend,
    parse_spec,
)
from undertow.engine.llm.accounting import Reservation
from undertow.engine.llm.cache import ResponseCache, request_key
from undertow.engine.llm.retry import RetryPolicy


class MeteredLLM(LLM):
    """An `LLM` whose accounting counts cache hits as calls (nominal tokens and cost)."""

    def _lookup(self, request: LLMRequest, purpose: str, started: float
                ) -> tuple[str, LLMResponse | None, Reservation | None]:
        key = request_key(request)
        reply = self.cache.get(key) if self.cache is not None else None
        held = self._reserve(request, purpose)
        if reply is None:
            return key, None, held
        self.accounting.record_hit(purpose)
        response = self._response(reply, request, key, purpose, started,
                                  cached=True, cost=0.0, attempts=0)
        cost = self.accounting.record(purpose, request.provider, request.model, response.usage, held)
        if self.ledger is not None:  # booked like any call, so the sweep's ledger matches the records
            self.ledger.book(purpose, response.usage, cost)
        return key, response, None


def build_llms(spec: str, *, seed: int, cache_dir: Path | None, budget: Budget | None,
               limits: Any = None, run_id: str = "", rate_limited: bool = False,
               tokens_limited: bool = False, sweep_capped: bool = False
               ) -> tuple[MeteredLLM, MeteredLLM]:
    """(train, eval): two clients over one backend and one cache folder.

    `train` carries the budget (the agent's forward calls and the optimizer's);
    `eval` scores the agent on held-out splits and is not budgeted, so every
    optimizer is measured on the same items whatever it spent. For `sim` the
    simulator's seed is the run's seed.

    `limits` (a connected `SweepLimits`, see `limits.py`): both clients book their calls
    in the sweep's ledger under `run_id`; with `rate_limited` they wait for the sweep's
    shared rate limiter; with `sweep_capped` the train client stops at the sweep budget.
    """
    parsed = parse_spec(spec)
    backend = make_backend(parsed, seed=seed) if parsed.provider == "sim" else make_backend(parsed)

    limiter = None
    if limits is not None and rate_limited:
        limiter = SharedLimiter(limits, limits_key(backend.provider, backend.endpoint, parsed.model),
                                tokens=tokens_limited)

    def one(acc: Accounting, side: str) -> MeteredLLM:
        cache = ResponseCache(cache_dir) if cache_dir is not None else None
        ledger = RunLedger(limits, run_id, side, capped=sweep_capped) if limits is not None else None
        return MeteredLLM(backend, model=parsed.model, cache=cache, accounting=acc,
                          retry=RetryPolicy(max_retries=3), max_concurrency=16, timeout=60.0,
                          seed=None if parsed.provider == "sim" else seed,
                          rate_limiter=limiter, ledger=ledger)

    return one(Accounting(budget), "train"), one(Accounting(), "eval")


def spend(llm: LLM) -> dict[str, Any]:
    """calls, tokens and dollars booked so far (all purposes)."""
    total = llm.accounting.spent()
    return {"calls": total.calls, "tokens": total.total_tokens, "cost_usd": total.cost_usd}
