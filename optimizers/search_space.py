"""A hyperparameter search space: named dimensions of kind int, float or choice.

The engine's `Parameter` enforces kinds, bounds and choices but has no log-scale
flag, so a `Dim` carries it here: `Dim.parameter()` builds the engine parameter (its
description says "log scale" where it applies, so an LLM reading the parameter sees
it) and `Space.log_scale()` hands the set of log-scale names to optimizers that use
it (LLAMBO, random search). Optuna's TPE is built from the parameters alone and
samples every float uniformly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import Parameter


@dataclass(frozen=True)
class Dim:
    """One hyperparameter: `kind` int/float with inclusive `low`/`high` (and `log`), or
    choice with `choices`; `default` is where a run starts."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("int", "float", "choice"):
            raise ValueError(f"dimension {self.name}: kind must be int, float or choice, got {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"dimension {self.name}: a choice needs choices=(...)")
        if self.kind != "choice":
            if self.low is None or self.high is None or not self.low < self.high:
                raise ValueError(f"dimension {self.name}: give low < high")
            if self.log and self.low <= 0:
                raise ValueError(f"dimension {self.name}: a log-scale range must be positive")

    def describe(self) -> str:
        """One line for a prompt or a table: name, kind, range or choices, scale."""
        if self.kind == "choice":
            return f"{self.name}: choice, one of [{', '.join(str(c) for c in self.choices)}]"
        scale = ", log scale" if self.log else ""
        return f"{self.name}: {self.kind} in [{_num(self.low)}, {_num(self.high)}]{scale}"

    def parameter(self) -> Parameter:
        """The engine parameter (kind, bounds/choices enforced), at the default value."""
        what = f"{self.help}; " if self.help else ""
        if self.kind == "choice":
            return Parameter(self.default, "choice", name=self.name, choices=list(self.choices),
                             description=f"{what}one of {list(self.choices)}")
        scale = "log scale" if self.log else "linear scale"
        return Parameter(self.default, self.kind, name=self.name, bounds=(self.low, self.high),
                         description=f"{what}{self.kind} in [{_num(self.low)}, {_num(self.high)}], {scale}")

    def sample(self, rng: random.Random) -> Any:
        """A uniform draw (log-uniform on a log scale; ints rounded inside the bounds)."""
        if self.kind == "choice":
            return rng.choice(self.choices)
        return self.from_unit(rng.random())

    def from_unit(self, u: float) -> Any:
        """The value at fraction `u` in [0, 1] of the range (on its scale), clipped."""
        assert self.low is not None and self.high is not None
        u = min(1.0, max(0.0, u))
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        if self.kind == "int":
            return int(min(self.high, max(self.low, round(x))))
        return float(min(self.high, max(self.low, x)))


@dataclass(frozen=True)
class Space:
    """An ordered set of dimensions."""

    dims: tuple[Dim, ...] = field(default_factory=tuple)

    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    def parameters(self) -> list[Parameter]:
        return [d.parameter() for d in self.dims]

    def log_scale(self) -> frozenset[str]:
        return frozenset(d.name for d in self.dims if d.log)

    def default(self) -> dict[str, Any]:
        return {d.name: d.default for d in self.dims}

    def describe(self) -> str:
        return "\n".join(f"- {d.describe()}" for d in self.dims)


def dims_from_parameters(parameters: Sequence[Parameter], names: Sequence[str],
                         log_scale: frozenset[str] | set[str] = frozenset()) -> Space:
    """The space the engine parameters define (bounds, choices), with log flags by name.

    A parameter whose description says "log scale" counts as log-scale too, so a
    space survives being rebuilt from parameters alone.
    """
    dims = []
    for p, name in zip(parameters, names, strict=True):
        if p.kind == "choice":
            dims.append(Dim(name, "choice", p.value, choices=tuple(p.choices or ())))
            continue
        if p.kind not in ("int", "float"):
            raise TypeError(f"{name} is a {p.kind} parameter; this search handles int, float and choice")
        if p.bounds is None or None in p.bounds:
            raise ValueError(f"{name} needs both bounds: Parameter(..., bounds=(low, high))")
        log = name in log_scale or "log scale" in (p.description or "").lower()
        dims.append(Dim(name, p.kind, p.value, low=p.bounds[0], high=p.bounds[1], log=log))
    return Space(tuple(dims))


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"
