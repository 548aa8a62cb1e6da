"""The optimizer role for numeric variables: move floats and ints the way the feedback asks.

A request shows numeric variables (`<variable name="x0" kind="float">1.3</variable>`
or OPTO's `(float) x0=1.3`) and feedback saying the output should be larger or
smaller. What the simulator can do depends on what the request shows:

- **the computation** (calls between named values, such as `mul_3 = mul(x0, 2.0)`):
  it evaluates the calls it knows (`OPS`) at the shown values and perturbs each
  variable, so it knows which way each one moves the output and by how much;
- **no computation**: it can only assume the output grows with every variable;
- **a history** of past values and feedback: the step is the size of the last move,
  halved when the feedback flipped since, grown by half when it did not; without a
  history the step is `BASE_STEP` (a tenth of the bounds' width when bounds are shown).

Bounds shown in the request are respected. Rules and measured figures: docs/sim.md.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from undertow.engine.llm.sim.request import Block, Variable

NUMERIC_KINDS = ("float", "int", "number")
#: Step size with no history and no bounds shown.
BASE_STEP = 0.5
#: Step change after the feedback flips sign / keeps its sign.
SHRINK, GROW = 0.5, 1.5
#: Each proposed step is scaled by a factor drawn from [1 - JITTER, 1 + JITTER].
JITTER = 0.2

OPS: dict[str, Callable[..., float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "truediv": lambda a, b: a / b,
    "neg": lambda a: -a,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "exp": math.exp,
    "square": lambda a: a * a,
    "pow": lambda a, b: a**b,
    "abs": abs,
    "scale": lambda a, c: a * c,
    "identity": lambda a: a,
}

_NAME = r"[A-Za-z_][\w.:]*"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CALL = re.compile(rf"^[ \t]*({_NAME})[ \t]*=[ \t]*({_NAME})\((.*)\)[ \t]*$", re.MULTILINE)
_SHOWN_VALUE = re.compile(rf"^[ \t]*\(\w+\)[ \t]*({_NAME})[ \t]*=[ \t]*({_NUMBER})[ \t]*$", re.MULTILINE)
_LARGER = ("larger", "increase", "bigger", "higher", "too small", "too low", "greater")
_SMALLER = ("smaller", "decrease", "lower", "too large", "too big", "too high", "less")


@dataclass
class Call:
    """One shown computation step: `out = op(args...)`; args are names or numbers."""

    out: str
    op: str
    args: list[str | float]


@dataclass
class NumericVar:
    """A numeric variable with its current value and any bounds the request shows."""

    name: str
    kind: str
    value: float
    low: float | None = None
    high: float | None = None

    def clip(self, x: float) -> float:
        if self.low is not None:
            x = max(self.low, x)
        if self.high is not None:
            x = min(self.high, x)
        return x


@dataclass
class Plan:
    """The numeric proposal: new values, and how they were chosen (for the reasoning)."""

    values: dict[str, float | int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- reading the request ---------------------------------------------------------------
def _number(text: str) -> float | None:
    m = re.fullmatch(rf"\s*({_NUMBER})\s*", text or "")
    return float(m.group(1)) if m else None


def numeric_variables(variables: Sequence[Variable], text: str) -> list[NumericVar]:
    """The variables of numeric kind whose value reads as a number, with shown bounds."""
    out = []
    for v in variables:
        if v.kind not in NUMERIC_KINDS:
            continue
        x = _number(v.value)
        if x is None or not math.isfinite(x):
            continue
        low, high = _bounds(v, text)
        out.append(NumericVar(v.name, "int" if v.kind == "int" else "float", x, low, high))
    return out


def _bounds(v: Variable, text: str) -> tuple[float | None, float | None]:
    attrs = v.attrs
    pair = attrs.get("bounds") or attrs.get("range")
    if pair:
        nums = [float(n) for n in re.findall(_NUMBER, pair)]
        if len(nums) == 2:
            return min(nums), max(nums)
    low = _number(attrs.get("min") or attrs.get("low") or attrs.get("lower") or "")
    high = _number(attrs.get("max") or attrs.get("high") or attrs.get("upper") or "")
    if low is not None or high is not None:
        return low, high
    name = re.escape(v.name)
    patterns = (
        rf"(?<![\w.:]){name}\s*(?::|in|within|∈)\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]",
        rf"({_NUMBER})\s*<=?\s*{name}\s*<=?\s*({_NUMBER})",
        rf"(?<![\w.:]){name}\b[^\n]{{0,40}}?between\s+({_NUMBER})\s+and\s+({_NUMBER})",
    )
    for pat in patterns:
        m = re.search(pat, text)
        if m:
            a, b = float(m.group(1)), float(m.group(2))
            return min(a, b), max(a, b)
    return None, None


def parse_calls(text: str) -> list[Call]:
    """The computation a request shows: lines `name = op(arg, ...)` with simple arguments
    (names or numbers, optionally `key=`). Lines with nested calls are skipped."""
    calls = []
    for m in _CALL.finditer(text):
        body = m.group(3)
        if "(" in body or ")" in body:
            continue
        args: list[str | float] = []
        ok = True
        for raw in (a.strip() for a in body.split(",")) if body.strip() else ():
            raw = re.sub(rf"^{_NAME}\s*=\s*", "", raw) if re.match(rf"{_NAME}\s*=", raw) else raw
            num = _number(raw)
            if num is not None:
                args.append(num)
            elif re.fullmatch(_NAME, raw):
                args.append(raw)
            else:
                ok = False
                break
        if ok:
            calls.append(Call(m.group(1), m.group(2).lower(), args))
    return calls


def shown_values(text: str) -> dict[str, float]:
    """Numbers a request shows for named values, OPTO style: `(float) sub_5=-2.37`."""
    return {m.group(1): float(m.group(2)) for m in _SHOWN_VALUE.finditer(text)}


def direction(feedback: str) -> int:
    """+1 when the feedback asks for a larger output, -1 for smaller, 0 for correct or unclear."""
    low = feedback.lower()
    words = set(re.findall(r"[a-z]+", low))

    def has(cues: Sequence[str]) -> bool:
        return any((c in low) if " " in c else (c in words) for c in cues)

    up, down = has(_LARGER), has(_SMALLER)
    if up != down:
        return 1 if up else -1
    return 0


def feedback_direction(blocks: Sequence[Block]) -> int:
    """The summed direction of every labelled feedback shown (sign only)."""
    total = sum(direction(b.fields.get("feedback", "")) for b in blocks)
    return (total > 0) - (total < 0)


_HISTORY_VALUE = re.compile(rf"({_NAME})\s*[=:]\s*({_NUMBER})")
_HISTORY_FEEDBACK = re.compile(r"(?:feedback|result)\W{0,3}\s*[:=]\s*\W{0,2}([^\n\"'}]+)", re.IGNORECASE)


def parse_history(bodies: Sequence[str], names: Sequence[str]) -> list[tuple[dict[str, float], int]]:
    """Past (values, direction) pairs from history sections, oldest first.

    Entries are `<entry>`/`<step>`/`<attempt>` blocks, JSON objects (one per line) with
    "variables" and "feedback", or lines like `x0=1.2, x1=0.3 -> larger`.
    """
    wanted = set(names)
    entries: list[tuple[dict[str, float], int]] = []
    for body in bodies:
        chunks = re.findall(r"<(entry|step|attempt|item)\b[^>]*>(.*?)</\1\s*>", body, re.DOTALL | re.IGNORECASE)
        pieces = [c for _, c in chunks] or [ln for ln in body.splitlines() if ln.strip()]
        for piece in pieces:
            values, fb = _history_entry(piece, wanted)
            if values:
                entries.append((values, direction(fb)))
    return entries


def _history_entry(piece: str, wanted: set[str]) -> tuple[dict[str, float], str]:
    try:
        obj = json.loads(piece)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        raw = obj.get("variables") or obj.get("values") or {}
        values = {}
        if isinstance(raw, dict):
            for k, v in raw.items():
                num = v if isinstance(v, (int, float)) else _number(str(v))
                if k in wanted and num is not None:
                    values[k] = float(num)
        return values, str(obj.get("feedback", ""))
    fb_tag = re.search(r"<feedback>(.*?)</feedback>", piece, re.DOTALL | re.IGNORECASE)
    values = {}
    for m in re.finditer(r"<variable\b[^>]*name=[\"']?([\w.:]+)[^>]*>(.*?)</variable>", piece,
                         re.DOTALL | re.IGNORECASE):
        num = _number(m.group(2))
        if m.group(1) in wanted and num is not None:
            values[m.group(1)] = num
    if not values:
        values = {k: float(v) for k, v in _HISTORY_VALUE.findall(piece) if k in wanted}
    if fb_tag:
        fb = fb_tag.group(1)
    else:
        m = _HISTORY_FEEDBACK.search(piece)
        fb = m.group(1) if m else piece.split("->")[-1] if "->" in piece else ""
    return values, fb


# --- the computation -------------------------------------------------------------------
def evaluate(calls: Sequence[Call], env: dict[str, float]) -> dict[str, float]:
    """Values of every call that can be computed from `env` (unknown ops and names skip)."""
    vals = dict(env)
    for c in calls:
        fn = OPS.get(c.op)
        if fn is None:
            continue
        args = [a if isinstance(a, float) else vals.get(a) for a in c.args]
        if any(a is None for a in args):
            continue
        try:
            out = fn(*args)
        except (ArithmeticError, ValueError, TypeError):
            continue
        if isinstance(out, (int, float)) and math.isfinite(out):
            vals[c.out] = float(out)
    return vals


def sensitivities(calls: Sequence[Call], xs: Sequence[NumericVar],
                  shown: dict[str, float]) -> dict[str, float] | None:
    """d(output)/d(x) per variable by central differences through the shown calls, where the
    output is the last computed value that nothing else uses; None when nothing computes."""
    names = {x.name for x in xs}
    env = {k: v for k, v in shown.items() if k not in {c.out for c in calls}}
    env.update({x.name: x.value for x in xs})
    base = evaluate(calls, env)
    computed = [c.out for c in calls if c.out in base and c.out not in names]
    if not computed:
        return None
    used = {a for c in calls for a in c.args if isinstance(a, str) and c.out in base}
    sinks = [n for n in computed if n not in used] or computed[-1:]
    grads: dict[str, float] = {}
    for x in xs:
        h = 1e-5 * max(1.0, abs(x.value))
        up = evaluate(calls, {**env, x.name: x.value + h})
        down = evaluate(calls, {**env, x.name: x.value - h})
        g = 0.0
        for s in sinks:
            if s in up and s in down:
                g += (up[s] - down[s]) / (2 * h)
        grads[x.name] = g
    return grads


# --- the proposal ----------------------------------------------------------------------
def propose(xs: Sequence[NumericVar], blocks: Sequence[Block], text: str,
            history: Sequence[tuple[dict[str, float], int]], rng: random.Random) -> Plan:
    """New values for numeric variables: direction from the feedback and the shown graph
    (or a guess), step size from the history."""
    plan = Plan()
    d = feedback_direction(blocks)
    if d == 0:
        plan.notes.append("The feedback does not say whether the output should be larger or "
                          "smaller, so the values stay as they are.")
        return plan
    want = "larger" if d > 0 else "smaller"
    grads = sensitivities(parse_calls(text), xs, shown_values(text))
    if grads is None:
        grads = {x.name: 1.0 for x in xs}
        plan.notes.append(f"The output should be {want}. No computation is shown, so I assume "
                          "the output grows with every variable.")
    else:
        ups = [n for n, g in grads.items() if g > 0]
        downs = [n for n, g in grads.items() if g < 0]
        plan.notes.append(
            f"The output should be {want}. From the computation shown, the output increases "
            f"with {', '.join(ups) or 'no variable'} and decreases with {', '.join(downs) or 'none'}.")
    step = _step_size(xs, history, d, plan)
    norm = math.sqrt(sum(g * g for g in grads.values()))
    if norm == 0.0:
        plan.notes.append("No variable changes the output here, so nothing moves.")
        return plan
    factor = 1.0 + rng.uniform(-JITTER, JITTER)
    for x in xs:
        delta = d * step * factor * grads.get(x.name, 0.0) / norm
        new = x.clip(x.value + delta)
        if x.kind == "int":
            moved = round(new)
            if moved == x.value and delta != 0.0:
                moved = int(x.value + (1 if delta > 0 else -1))
            plan.values[x.name] = int(x.clip(moved))
        else:
            plan.values[x.name] = round(new, 6)
    return plan


def _step_size(xs: Sequence[NumericVar], history: Sequence[tuple[dict[str, float], int]],
               d: int, plan: Plan) -> float:
    widths = [x.high - x.low for x in xs if x.low is not None and x.high is not None]
    base = 0.1 * min(widths) if widths else BASE_STEP
    past = [(v, s) for v, s in history if s != 0]
    if not past:
        return base
    # Walk the history: each move's size, halved on a flip of the feedback, grown otherwise.
    seq = [*past, ({x.name: x.value for x in xs}, d)]
    step = base
    for (prev, s_prev), (cur, s_cur) in itertools.pairwise(seq):
        moved = math.sqrt(sum((cur.get(k, prev[k]) - prev[k]) ** 2 for k in prev))
        if moved > 0:
            step = moved
        step *= SHRINK if s_cur != s_prev else GROW
    flips = sum(1 for (_, a), (_, b) in itertools.pairwise(seq) if a != b)
    plan.notes.append(f"The history shows {len(past)} earlier tries with {flips} flip(s) of the "
                      f"feedback, so the step is {step:.4g}.")
    return step
