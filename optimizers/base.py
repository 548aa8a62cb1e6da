"""The contract every optimizer shares.

An optimizer is built from parameters (a list, or a `Module`). A training step is:
forward, `backward(outputs, feedback)`, `optimizer.step()`, `optimizer.zero_feedback()`.
`step()` reads what the parameters received and writes new values through
`Parameter.set`, so constraints always hold; every proposal and its outcome
(accepted, or rejected with the reason) goes to `log`. `state_dict()` captures the
optimizer and the parameter values as JSON data, so a run can resume exactly.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from undertow.engine import InvalidValueError, Module, Parameter, StateError
from undertow.engine.callbacks import Callback, CallbackList, ProposalEvent
from undertow.engine.convention import stable_repr

log = logging.getLogger("undertow.optimizers")


class Proposal(BaseModel):
    """One proposed new value for one parameter, and what became of it."""

    step: int
    parameter: str
    old: Any
    new: Any
    accepted: bool
    reason: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)


#: `Proposal(**fields)` without `BaseModel.__init__`'s Python layer, same validation (a
#: step on a large graph makes one per parameter: a quarter of the cost each).
_new_proposal = Proposal.__pydantic_validator__.validate_python


class Optimizer(ABC):
    """Base class: turns the feedback parameters received into new values."""

    def __init__(self, parameters: Iterable[Parameter] | Module, *,
                 callbacks: Iterable[Callback] = ()) -> None:
        params = parameters.parameters() if isinstance(parameters, Module) else list(parameters)
        if not params:
            raise ValueError("an optimizer needs at least one Parameter to optimize")
        bad = [type(p).__name__ for p in params if not isinstance(p, Parameter)]
        if bad:
            raise TypeError(f"optimizers take Parameters, got {', '.join(sorted(set(bad)))}")
        self.parameters: list[Parameter] = params
        self.names = _unique_names(params)
        self.steps = 0
        self.log: list[Proposal] = []
        self.callbacks = CallbackList(callbacks)

    def add_callback(self, callback: Callback) -> None:
        """Call `callback.on_proposal` for every proposal this optimizer logs."""
        self.callbacks.add(callback)

    def record(self, proposal: Proposal) -> Proposal:
        """Append `proposal` to `log` and tell the callbacks (every proposal goes through here)."""
        self.log.append(proposal)
        if log.isEnabledFor(logging.DEBUG):  # (its arguments cost more than the check: hot path)
            log.debug("%s step %d %s %s: %s", type(self).__name__, proposal.step, proposal.parameter,
                      "accepted" if proposal.accepted else "refused", proposal.reason or "-")
        if self.callbacks:
            self.callbacks.emit("on_proposal", ProposalEvent(
                optimizer=type(self).__name__, step=proposal.step, parameter=proposal.parameter,
                value=proposal.new, accepted=proposal.accepted, reason=proposal.reason,
                meta=dict(proposal.meta)))
        return proposal

    def __deepcopy__(self, memo: dict[int, Any]) -> Optimizer:
        """An independent copy (over copies of the parameters, unless they are copied in the
        same `deepcopy` call as their module, whose copies it then uses). LLM clients and
        experience stores are shared by design: a copy is another handle on the same
        connection pool, cache, budget and database. Anything else that cannot be copied
        raises a `TypeError` that points to `state_dict()`.
        """
        cls = type(self)
        new = cls.__new__(cls)
        memo[id(self)] = new
        try:
            for key, value in self.__dict__.items():
                new.__dict__[key] = copy.deepcopy(value, memo)
        except TypeError as exc:
            raise TypeError(
                f"{cls.__name__} cannot be deep-copied ({exc}). To fork an optimizer, build a new one "
                "over the copied parameters and restore it with new.load_state_dict(old.state_dict())"
            ) from None
        # names are keyed by parameter identity: re-key them for the copies
        new.names = {id(q): self.names[id(p)] for p, q in zip(self.parameters, new.parameters)}
        return new

    def zero_feedback(self) -> None:
        """Forget the feedback and gradients the parameters received."""
        for p in self.parameters:
            p.zero_feedback()

    @abstractmethod
    def step(self) -> list[Proposal]:
        """Propose and apply new values from the received feedback; return the proposals."""

    def finalize(self) -> list[Proposal]:
        """Set the parameters to the answer this optimizer would return now.

        Most optimizers keep their answer in the parameters already (this does
        nothing); searches whose parameters hold the next candidate to try (TPE)
        restore the best one seen. The bench calls it before the final test score.
        """
        return []

    def propose(self, param: Parameter, value: Any, *, reason: str = "", meta: dict[str, Any] | None = None) -> Proposal:
        """Try to set `value`; log the outcome. Invalid values are rejected, not raised."""
        old = param.value
        try:
            param.set(value)
        except InvalidValueError as exc:
            proposal = Proposal(step=self.steps, parameter=self.names[id(param)], old=old, new=jsonable(value),
                                accepted=False, reason=str(exc), meta=meta or {})
        else:
            proposal = _new_proposal({"step": self.steps, "parameter": self.names[id(param)], "old": old,
                                      "new": param.value, "accepted": True, "reason": reason, "meta": meta or {}})
        return self.record(proposal)

    # -- resumable state --------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """Subclasses: their own state as JSON data (moments, memories, RNG state...)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Subclasses: restore what `extra_state` returned."""

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": type(self).__name__,
            "steps": self.steps,
            "parameters": {self.names[id(p)]: p.value for p in self.parameters},
            "log": [p.model_dump(mode="json") for p in self.log],
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`: parameter values are validated before anything changes."""
        if state.get("optimizer") != type(self).__name__:
            raise StateError(
                f"state is from optimizer {state.get('optimizer')!r}, not {type(self).__name__}; "
                "load it into the optimizer that saved it"
            )
        by_name = {self.names[id(p)]: p for p in self.parameters}
        values = state.get("parameters", {})
        if set(values) != set(by_name):
            raise StateError(
                f"state has parameters {sorted(values)} but this optimizer has {sorted(by_name)}; "
                "build the optimizer over the same parameters"
            )
        staged = []
        for name, v in values.items():
            try:
                staged.append((by_name[name], by_name[name].validate(v)))
            except InvalidValueError as exc:
                raise StateError(f"cannot restore {name!r}: {exc}") from None
        for p, v in staged:
            p.set(v)
        self.steps = int(state.get("steps", 0))
        self.log = [Proposal.model_validate(p) for p in state.get("log", [])]
        self.load_extra_state(state.get("extra", {}))


def _unique_names(params: list[Parameter]) -> dict[int, str]:
    """Each parameter's name in logs and `state_dict()`: its own name, else `param:<i>`
    with `i` its position in this optimizer (never the process-wide node id, so a
    state saved in one process loads in another)."""
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    for i, p in enumerate(params):
        base = p.name if p.name is not None else f"param:{i}"
        n = used.get(base, 0)
        used[base] = n + 1
        names[id(p)] = base if n == 0 else f"{base}#{n}"
    return names


def jsonable(v: Any) -> Any:
    """`v` if it is plain JSON data (finite numbers, containers of JSON data), else its
    stable repr: what a log entry holds, which must stay JSON."""
    if v is None or type(v) in (int, str, bool) or (type(v) is float and math.isfinite(v)):
        return v
    try:
        json.dumps(v, allow_nan=False)
        return v
    except (TypeError, ValueError):
        return stable_repr(v)
