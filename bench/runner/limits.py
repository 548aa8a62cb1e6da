"""Rate limits and a spend ledger shared by every run of a sweep, whatever runs them.

Runs in parallel share one provider, so they must share its limits: one `SweepLimits`
object per sweep holds a token-bucket `RateLimiter` per provider (keyed by provider,
endpoint and model) and a ledger of what each run spent. Where it lives depends on the
executor, and the runs reach it through a picklable handle:

- inline (one worker): in the runner's process (`LocalHandle`);
- local processes: in a `multiprocessing.managers` server process started by the runner
  (`ManagerHandle`: its address and key; each worker connects once);
- Ray: a named Ray actor (`RayHandle`: its name; each task looks it up).

A run's clients get two small adapters that fit the engine's `Limiter` and
`SpendLedger` protocols (`undertow.engine.llm.limits`): `SharedLimiter` asks the
service how long to wait before each request (the wait happens in the run's process),
and `RunLedger` books each call of the run and, when a sweep budget is set, refuses new
training calls once the sweep as a whole has spent it. Each run's own budget (the
matched budget of `--budget`) is still enforced by its own `Accounting`; the ledger only
adds them up. Limits change when calls go, never what they answer, so a sweep gives the
same records with or without them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

from undertow.engine.llm import Budget, BudgetExceeded, RateLimiter, Usage

LEDGER_FILE = "ledger.json"
SIDES = ("train", "eval")
_FIELDS = ("calls", "prompt_tokens", "completion_tokens", "cost_usd")


def _zero() -> dict[str, float]:
    return {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}


def _total(entries: list[dict[str, Any]]) -> dict[str, Any]:
    out = _zero()
    for e in entries:
        for k in _FIELDS:
            out[k] += e.get(k, 0)
    out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    return out


class SweepLimits:
    """The shared state of one sweep: rate limiters per provider and the spend ledger.

    Thread-safe; every method takes and returns plain values, so the same object serves
    in-process, behind a manager proxy and as a Ray actor.

    Args:
        rpm, tpm: the provider's requests and tokens per minute (None: no limit).
        burst: requests let through at once after an idle spell (default: a minute's worth).
        sweep_budget: a cap on the training spend of all runs together, as a dict of
            `Budget` fields (None: none).
        ledger: a saved ledger (`snapshot()["runs"]`) to continue, on resume.
        clock: the limiters' clock in seconds (default `time.monotonic`; tests pass a fixed one).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, burst: float | None = None,
                 sweep_budget: dict[str, Any] | None = None,
                 ledger: dict[str, dict[str, dict[str, float]]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rpm, self.tpm, self.burst, self._clock = rpm, tpm, burst, clock
        self.sweep_budget = Budget(**sweep_budget) if sweep_budget else None
        self._limiters: dict[str, RateLimiter] = {}
        self._runs: dict[str, dict[str, dict[str, float]]] = {
            r: {s: {**_zero(), **{k: v for k, v in e.get(s, {}).items() if k in _FIELDS}} for s in SIDES}
            for r, e in (ledger or {}).items()}
        self._lock = threading.Lock()

    # rate limits ---------------------------------------------------------------------
    def _limiter(self, key: str) -> RateLimiter:
        with self._lock:
            found = self._limiters.get(key)
            if found is None:
                found = self._limiters[key] = RateLimiter(self.rpm, self.tpm, burst=self.burst,
                                                                clock=self._clock)
            return found

    def reserve(self, key: str, tokens: int = 0) -> float:
        """Book one request of `key`'s provider; the seconds the caller must wait first."""
        if not self.rpm and not self.tpm and key not in self._limiters:
            return 0.0  # no limits and no hold: nothing to book
        return self._limiter(key).reserve(tokens)

    def hold(self, key: str, seconds: float) -> None:
        """Grant no request of `key`'s provider for `seconds` (its `retry-after`)."""
        self._limiter(key).hold(seconds)

    def settle(self, key: str, estimated: int, actual: int) -> None:
        """Correct a token estimate once the reply's count is known."""
        if self.tpm:
            self._limiter(key).settle(estimated, actual)

    # ledger --------------------------------------------------------------------------
    def open_run(self, run_id: str, spent: dict[str, dict[str, float]] | None = None) -> None:
        """Start (or restart, from its checkpoint's spend) the ledger entry of one run."""
        with self._lock:
            self._runs[run_id] = {s: {**_zero(), **{k: v for k, v in (spent or {}).get(s, {}).items()
                                                  if k in _FIELDS}} for s in SIDES}

    def book(self, run_id: str, side: str, prompt_tokens: int, completion_tokens: int,
             cost_usd: float) -> None:
        """Add one call of `run_id` (`side`: train or eval) to the ledger."""
        with self._lock:
            entry = self._runs.setdefault(run_id, {s: _zero() for s in SIDES})[side]
            entry["calls"] += 1
            entry["prompt_tokens"] += prompt_tokens
            entry["completion_tokens"] += completion_tokens
            entry["cost_usd"] += cost_usd

    def refusal(self) -> dict[str, Any] | None:
        """None while the sweep budget has room for another training call, else what stops it
        (`limit`, `cap`, `spent`)."""
        budget = self.sweep_budget
        if budget is None:
            return None
        with self._lock:
            spent = _total([e["train"] for e in self._runs.values()])
        for limit, used in (("max_calls", spent["calls"]), ("max_tokens", spent["total_tokens"]),
                            ("max_usd", spent["cost_usd"])):
            cap = getattr(budget, limit)
            if cap is not None and used >= cap:
                return {"limit": limit, "cap": cap, "spent": spent}
        return None

    def snapshot(self) -> dict[str, Any]:
        """The ledger: per run and side, and the sweep's totals (JSON-ready)."""
        with self._lock:
            runs = {r: {s: dict(e[s]) for s in SIDES} for r, e in sorted(self._runs.items())}
        return {"version": 1, "rpm": self.rpm, "tpm": self.tpm, "burst": self.burst,
                "sweep_budget": self.sweep_budget.model_dump(exclude_none=True) if self.sweep_budget else None,
                "runs": runs, "total": {s: _total([e[s] for e in runs.values()]) for s in SIDES}}


# the adapters a run's clients hold ------------------------------------------------------
class SharedLimiter:
    """The engine's `Limiter` over the sweep's shared limits, for one provider key."""

    def __init__(self, service: Any, key: str, *, tokens: bool) -> None:
        self.service, self.key, self.tokens = service, key, tokens

    def reserve(self, tokens: int = 0) -> float:
        return float(self.service.reserve(self.key, tokens))

    def hold(self, seconds: float) -> None:
        self.service.hold(self.key, float(seconds))

    def settle(self, estimated: int, actual: int) -> None:
        if self.tokens and estimated != actual:
            self.service.settle(self.key, estimated, actual)


class RunLedger:
    """The engine's `SpendLedger` for one run's client: books its calls in the sweep's
    ledger and, on the training side under a sweep budget, refuses calls past it."""

    def __init__(self, service: Any, run_id: str, side: str, *, capped: bool) -> None:
        self.service, self.run_id, self.side, self.capped = service, run_id, side, capped

    def admit(self, purpose: str) -> None:
        if not self.capped or self.side != "train":
            return
        stop = self.service.refusal()
        if stop is not None:
            spent = stop["spent"]
            raise BudgetExceeded(f"sweep {stop['limit']}", stop["cap"], None,
                                 {"calls": spent["calls"], "total_tokens": spent["total_tokens"],
                                  "cost_usd": spent["cost_usd"]}, {})

    def book(self, purpose: str, usage: Usage, cost_usd: float) -> None:
        self.service.book(self.run_id, self.side, int(usage.prompt_tokens), int(usage.completion_tokens),
                          float(cost_usd))


# where the service lives ------------------------------------------------------------------
@dataclass
class LocalHandle:
    """The service in this process (inline runs); not sent to other processes."""

    service: SweepLimits

    def connect(self) -> SweepLimits:
        return self.service


_SERVICE: SweepLimits | None = None


def _the_service() -> SweepLimits:
    assert _SERVICE is not None, "the limits manager was started without its service"
    return _SERVICE


def _serve_init(kwargs: dict[str, Any], parent: int) -> None:
    global _SERVICE
    _SERVICE = SweepLimits(**kwargs)
    from undertow.engine.sandbox.isolation import die_with_parent

    die_with_parent()  # a killed runner leaves no manager behind
    if os.getppid() != parent:
        os._exit(1)


_EXPOSED = ("reserve", "hold", "settle", "open_run", "book", "refusal", "snapshot")


class LimitsManager(BaseManager):
    """The manager process that holds a sweep's `SweepLimits` for local worker processes."""


LimitsManager.register("limits", callable=_the_service, exposed=_EXPOSED)

_CONNECTED: dict[Any, Any] = {}
_CONNECT_LOCK = threading.Lock()


@dataclass(frozen=True)
class ManagerHandle:
    """How a worker process reaches the manager: its socket address and key."""

    host: str
    port: int
    authkey: bytes

    def connect(self) -> Any:
        with _CONNECT_LOCK:
            key = (self.host, self.port, self.authkey, os.getpid())
            if key not in _CONNECTED:
                manager = LimitsManager(address=(self.host, self.port), authkey=self.authkey)
                manager.connect()
                _CONNECTED[key] = manager.limits()  # type: ignore[attr-defined]
            return _CONNECTED[key]


class _RayService:
    """Blocking calls to the sweep's Ray actor, with the service's method names."""

    def __init__(self, actor: Any) -> None:
        import ray

        self._ray, self._actor = ray, actor

    def __getattr__(self, name: str) -> Any:
        if name not in _EXPOSED:
            raise AttributeError(name)
        method = getattr(self._actor, name)
        return lambda *args: self._ray.get(method.remote(*args))


@dataclass(frozen=True)
class RayHandle:
    """How a Ray task reaches the sweep's named actor."""

    name: str
    namespace: str

    def connect(self) -> Any:
        import ray

        with _CONNECT_LOCK:
            key = (self.name, self.namespace, os.getpid())
            if key not in _CONNECTED:
                _CONNECTED[key] = _RayService(ray.get_actor(self.name, namespace=self.namespace))
            return _CONNECTED[key]


def _is_ray(pool: Executor) -> bool:
    return type(pool).__name__ == "RayExecutor"


@contextlib.contextmanager
def serve_limits(pool: Executor, out: Path, **kwargs: Any) -> Iterator[tuple[Any, Any]]:
    """The sweep's `SweepLimits`, where `pool`'s runs can reach it: yields (handle for the
    runs, the service as seen from here). `kwargs` go to `SweepLimits`."""
    from undertow.bench.runner.executor import InlineExecutor

    if isinstance(pool, InlineExecutor):
        service = SweepLimits(**kwargs)
        yield LocalHandle(service), service
        return
    if not any(kwargs.get(k) for k in ("rpm", "tpm", "sweep_budget")):
        # nothing to share while the runs go: no service process, no round trip per call;
        # the runner rebuilds the ledger from the runs' checkpoints at the end
        yield None, SweepLimits(**kwargs)
        return
    if _is_ray(pool):
        import ray

        name, namespace = f"undertow-limits-{uuid.uuid4().hex[:12]}", "undertow"
        actor = ray.remote(num_cpus=0)(SweepLimits).options(name=name, namespace=namespace).remote(**kwargs)
        try:
            handle = RayHandle(name, namespace)
            yield handle, _RayService(actor)
        finally:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        return
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    authkey = secrets.token_bytes(16)
    manager = LimitsManager(address=("127.0.0.1", 0), authkey=authkey, ctx=ctx)
    manager.start(_serve_init, (kwargs, os.getpid()))
    try:
        host, port = manager.address
        handle = ManagerHandle(host, port, authkey)
        yield handle, manager.limits()  # type: ignore[attr-defined]
    finally:
        manager.shutdown()


def limits_key(provider: str, endpoint: str | None, model: str) -> str:
    """One limiter per provider account's model: provider, endpoint and model."""
    return f"{provider}|{endpoint or ''}|{model}"
