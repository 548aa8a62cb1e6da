"""The operators Python syntax on nodes records, and traced math functions.

Each operator's forward rule and local backward rule sit side by side. A backward
rule gets `(g, out, *args)` — the gradient flowing into the result, the result, and
the plain argument values — and returns one local gradient per argument.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from undertow.engine.op import Op, apply1


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _dpow(g: float, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    da = g * b * a ** (b - 1) if _num(a) and _num(b) and (a != 0 or b >= 1) else None
    db = g * out * math.log(a) if _num(a) and a > 0 else None
    return da, db


ADD = Op("add", operator.add, lambda g, out, a, b: (g, g), "a + b")
SUB = Op("sub", operator.sub, lambda g, out, a, b: (g, -g), "a - b")
MUL = Op("mul", operator.mul, lambda g, out, a, b: (g * b, g * a), "a * b")
DIV = Op("div", operator.truediv, lambda g, out, a, b: (g / b, -g * a / (b * b)), "a / b")
FLOORDIV = Op("floordiv", operator.floordiv, None, "a // b")
MOD = Op("mod", operator.mod, None, "a % b (remainder, or printf-style string formatting)")
POW = Op("pow", operator.pow, _dpow, "a ** b")
NEG = Op("neg", operator.neg, lambda g, out, a: (-g,), "-a")
ABS = Op("abs", abs, lambda g, out, a: (g * (1.0 if a > 0 else -1.0 if a < 0 else 0.0),), "|a|")
GETITEM = Op("getitem", operator.getitem, None, "a[key]")
EQ = Op("eq", operator.eq, None, "a == b")
NE = Op("ne", operator.ne, None, "a != b")
LT = Op("lt", operator.lt, None, "a < b")
LE = Op("le", operator.le, None, "a <= b")
GT = Op("gt", operator.gt, None, "a > b")
GE = Op("ge", operator.ge, None, "a >= b")
LEN = Op("len", len, None, "len(a)")
FORMAT = Op("format", lambda template, *a, **k: template.format(*a, **k), None,
            "template.format(...): fills a string template")

EXP = Op("exp", math.exp, lambda g, out, a: (g * out,), "e ** a")
LOG = Op("log", math.log, lambda g, out, a: (g / a,), "natural logarithm of a")
SIN = Op("sin", math.sin, lambda g, out, a: (g * math.cos(a),), "sin(a)")
COS = Op("cos", math.cos, lambda g, out, a: (-g * math.sin(a),), "cos(a)")
TANH = Op("tanh", math.tanh, lambda g, out, a: (g * (1.0 - out * out),), "tanh(a)")
SQRT = Op("sqrt", math.sqrt, lambda g, out, a: (g * 0.5 / out,), "square root of a")
SQUARE = Op("square", lambda a: a * a, lambda g, out, a: (g * 2.0 * a,), "a * a")
SIGMOID = Op("sigmoid", lambda a: 1.0 / (1.0 + math.exp(-a)),
             lambda g, out, a: (g * out * (1.0 - out),), "1 / (1 + e ** -a)")


def exp(x: Any) -> Any:
    """Traced `math.exp`."""
    return apply1(EXP, x)


def log(x: Any) -> Any:
    """Traced `math.log`."""
    return apply1(LOG, x)


def sin(x: Any) -> Any:
    """Traced `math.sin`."""
    return apply1(SIN, x)


def cos(x: Any) -> Any:
    """Traced `math.cos`."""
    return apply1(COS, x)


def tanh(x: Any) -> Any:
    """Traced `math.tanh`."""
    return apply1(TANH, x)


def sqrt(x: Any) -> Any:
    """Traced `math.sqrt`."""
    return apply1(SQRT, x)


def square(x: Any) -> Any:
    """Traced `x * x` with a single parent edge."""
    return apply1(SQUARE, x)


def sigmoid(x: Any) -> Any:
    """Traced logistic function."""
    return apply1(SIGMOID, x)
