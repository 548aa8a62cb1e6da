"""Gradient descent and Adam over float parameters, from the numeric propagator.

No LLM involved: the loop is `backward(loss, 1.0, "numeric")`, `step()`. Values are
projected into each parameter's bounds (and the log says when that happened).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Optimizer, Proposal


def _clip(p: Parameter, v: float) -> tuple[float, bool]:
    if p.bounds is None:
        return v, False
    lo, hi = p.bounds
    c = v
    if lo is not None:
        c = max(lo, c)
    if hi is not None:
        c = min(hi, c)
    return c, c != v


class _NumericOptimizer(Optimizer):
    def __init__(self, parameters: Iterable[Parameter] | Module) -> None:
        super().__init__(parameters)
        wrong = [f"{self.names[id(p)]} ({p.kind})" for p in self.parameters if p.kind != "float"]
        if wrong:
            raise TypeError(
                f"{type(self).__name__} needs float parameters, got {', '.join(wrong)}; "
                "use a black-box or LLM optimizer for other kinds"
            )

    def step(self) -> list[Proposal]:
        proposals = []
        for p in self.parameters:
            if p.grad is None:
                continue
            if not math.isfinite(p.grad):
                proposals.append(self.propose(p, p.value, reason=f"skipped: gradient is {p.grad}"))
                continue
            target = self._update(p, p.grad)
            new, clipped = _clip(p, target)
            reason = f"grad={p.grad:.6g}" + (f"; clipped {target:.6g} into bounds {list(p.bounds)}" if clipped else "")
            proposals.append(self.propose(p, new, reason=reason))
        self.steps += 1
        return proposals

    def _update(self, p: Parameter, g: float) -> float:
        raise NotImplementedError


class SGD(_NumericOptimizer):
    """Gradient descent with optional momentum: v = mu*v + g; x -= lr*v."""

    def __init__(self, parameters: Iterable[Parameter] | Module, lr: float = 0.01, momentum: float = 0.0) -> None:
        super().__init__(parameters)
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr, self.momentum = lr, momentum
        self.velocity: dict[str, float] = {}

    def _update(self, p: Parameter, g: float) -> float:
        name = self.names[id(p)]
        v = self.momentum * self.velocity.get(name, 0.0) + g
        self.velocity[name] = v
        return p.value - self.lr * v

    def extra_state(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "velocity": dict(self.velocity)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.lr = state.get("lr", self.lr)
        self.momentum = state.get("momentum", self.momentum)
        self.velocity = dict(state.get("velocity", {}))


class Adam(_NumericOptimizer):
    """Adam (Kingma & Ba): bias-corrected first and second moment estimates."""

    def __init__(self, parameters: Iterable[Parameter] | Module, lr: float = 0.05,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(parameters)
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m: dict[str, float] = {}
        self.v: dict[str, float] = {}
        self.t: dict[str, int] = {}

    def _update(self, p: Parameter, g: float) -> float:
        name = self.names[id(p)]
        b1, b2 = self.betas
        t = self.t.get(name, 0) + 1
        m = b1 * self.m.get(name, 0.0) + (1 - b1) * g
        v = b2 * self.v.get(name, 0.0) + (1 - b2) * g * g
        self.m[name], self.v[name], self.t[name] = m, v, t
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return p.value - self.lr * m_hat / (math.sqrt(v_hat) + self.eps)

    def extra_state(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps,
                "m": dict(self.m), "v": dict(self.v), "t": dict(self.t)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.lr = state.get("lr", self.lr)
        self.betas = tuple(state.get("betas", self.betas))  # type: ignore[assignment]
        self.eps = state.get("eps", self.eps)
        self.m, self.v, self.t = dict(state.get("m", {})), dict(state.get("v", {})), dict(state.get("t", {}))
