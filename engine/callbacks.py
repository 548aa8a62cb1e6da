"""Callbacks: a small interface for watching runs, steps, proposals and LLM calls.

Subclass `Callback` and override the hooks you need; hand instances to an optimizer
(`optimizer.add_callback(cb)`), an `LLM` (`llm.add_callback(cb)`) or the bench
runner (`start(..., callbacks=[cb])`, which wires them into both). Every hook gets
one small frozen dataclass, so a hook written today keeps working when fields are
added. A hook that raises is logged (logger `undertow.callbacks`) and ignored: a
broken observer never stops a run.

    class Printer(Callback):
        def on_llm_call(self, call: LLMCallEvent) -> None:
            print(call.model, call.input_tokens, call.output_tokens, call.cached)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("undertow.callbacks")


@dataclass(frozen=True)
class RunEvent:
    """A bench run starting or ending (`status`: running, done, failed, interrupted)."""

    run_id: str
    task: str
    optimizer: str
    seed: int
    llm: str
    steps: int
    status: str = "running"
    error: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepEvent:
    """One optimizer step of a run: at its start (`score` None) and at its end.

    `calls`, `tokens` and `cost_usd` are the run's spend so far; `score` is the
    validation score after the step.
    """

    run_id: str
    step: int
    score: float | None = None
    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class ProposalEvent:
    """One proposed value for one parameter and what became of it."""

    optimizer: str
    step: int
    parameter: str
    value: Any
    accepted: bool
    reason: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LLMCallEvent:
    """One LLM request answered (or failed, with `error` set)."""

    provider: str
    model: str
    purpose: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool
    latency_s: float
    key: str = ""
    finish_reason: str | None = None
    error: str = ""


class Callback:
    """Override any of these; the defaults do nothing."""

    def on_run_start(self, run: RunEvent) -> None:
        """A run begins (or resumes)."""

    def on_run_end(self, run: RunEvent) -> None:
        """A run ends: `run.status` says how."""

    def on_step_start(self, step: StepEvent) -> None:
        """An optimizer step begins."""

    def on_step(self, step: StepEvent) -> None:
        """An optimizer step ended and was checkpointed."""

    def on_proposal(self, proposal: ProposalEvent) -> None:
        """An optimizer proposed a value (accepted or refused)."""

    def on_llm_call(self, call: LLMCallEvent) -> None:
        """An LLM call finished (cache hits included: `call.cached`)."""

    def on_error(self, error: BaseException, where: str) -> None:
        """Something failed; `where` names the run or component."""


class CallbackList:
    """Dispatches each hook to many callbacks; a callback that raises is logged, not fatal."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks: list[Callback] = list(callbacks)

    def add(self, callback: Callback) -> None:
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks must subclass undertow.engine.Callback, got {type(callback).__name__}")
        if callback not in self.callbacks:
            self.callbacks.append(callback)

    def __bool__(self) -> bool:
        return bool(self.callbacks)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.callbacks)

    def emit(self, hook: str, *args: Any) -> None:
        """Call `hook(*args)` on every callback."""
        for cb in self.callbacks:
            try:
                getattr(cb, hook)(*args)
            except Exception:  # noqa: BLE001 - observers never break a run
                log.warning("callback %s.%s raised; ignored", type(cb).__name__, hook, exc_info=True)


__all__ = ["Callback", "CallbackList", "LLMCallEvent", "ProposalEvent", "RunEvent", "StepEvent"]
