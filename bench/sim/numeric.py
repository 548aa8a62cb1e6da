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
from typing import Self

from undertow.bench.sim.name_search import NUMBER as _NUMBER
from undertow.bench.sim.name_search import stated_bounds, trailer
from undertow.bench.sim.profile import TaskProfile
from undertow.bench.sim.request import Block, Variable

NUMERIC_KINDS = ("float", "int", "number")
#: Step size with no history and no bounds shown.
BASE_STEP = 0.5
#: Step change after the feedback flips sign / keeps its sign.
SHRINK, GROW = 0.5, 1.5
#: Each proposed step is scaled by a factor drawn from [1 - JITTER, 1 + JITTER].
JITTER = 0.2

def _engine_ops() -> dict[str, Callable[..., float]]:
    """The forward functions of the engine's own operators (`builtin_ops`), by name: the
    sim evaluates a shown call with the very rule that recorded it."""
    from undertow.engine import builtin_ops
    from undertow.engine.op import Op

    ops = {op.name: op.forward for op in vars(builtin_ops).values() if isinstance(op, Op)}
    ops.setdefault("truediv", ops["div"])  # Python's name for "/"
    return ops


#: Operators the sim can evaluate in a shown computation (the engine's `builtin_ops`).
OPS: dict[str, Callable[..., float]] = _engine_ops()

_NAME = r"[A-Za-z_][\w.:]*"
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
    shown = re.search(rf"bounds?\s*[:=]?\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]",
                      trailer(v.name, text))
    if shown:  # OPTO style: "constraints: bounds [5, 90]" under the variable's tag
        a, b = float(shown.group(1)), float(shown.group(2))
        return min(a, b), max(a, b)
    return stated_bounds(v.name, text) or (None, None)


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


class PastTry(tuple):
    """One history entry: the pair (values, direction), with the feedback text kept as
    `.feedback` for task rules that read more than a direction (`numeric_plan`)."""

    feedback: str

    def __new__(cls, values: dict[str, float], sign: int, feedback: str = "") -> Self:
        entry = super().__new__(cls, (values, sign))
        entry.feedback = feedback
        return entry


def parse_history(bodies: Sequence[str], names: Sequence[str]) -> list[tuple[dict[str, float], int]]:
    """Past (values, direction) pairs from history sections, oldest first (each a
    `PastTry`, which also keeps the feedback text).

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
                entries.append(PastTry(values, direction(fb), fb))
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
        except (ArithmeticError, ValueError, TypeError, AttributeError, KeyError, IndexError):
            continue
        if isinstance(out, (int, float)) and math.isfinite(out):
            vals[c.out] = float(out)
    return vals


def output_function(calls: Sequence[Call], xs: Sequence[NumericVar], shown: dict[str, float]
                    ) -> Callable[[dict[str, float]], float | None] | None:
    """The output as a function of the variables' values, through the shown calls: the sum
    of the computed values nothing else uses. None when no call computes at the current
    values."""
    names = {x.name for x in xs}
    env = {k: v for k, v in shown.items() if k not in {c.out for c in calls}}
    env.update({x.name: x.value for x in xs})
    base = evaluate(calls, env)
    computed = [c.out for c in calls if c.out in base and c.out not in names]
    if not computed:
        return None
    used = {a for c in calls for a in c.args if isinstance(a, str) and c.out in base}
    sinks = [n for n in computed if n not in used] or computed[-1:]

    def f(values: dict[str, float]) -> float | None:
        vals = evaluate(calls, {**env, **values})
        if any(s not in vals for s in sinks):
            return None
        return sum(vals[s] for s in sinks)

    return f


def sensitivities(f: Callable[[dict[str, float]], float | None], xs: Sequence[NumericVar]
                  ) -> dict[str, float]:
    """d(output)/d(x) per variable by central differences (0 where it cannot be computed)."""
    at = {x.name: x.value for x in xs}
    grads: dict[str, float] = {}
    for x in xs:
        h = 1e-5 * max(1.0, abs(x.value))
        up, down = f({**at, x.name: x.value + h}), f({**at, x.name: x.value - h})
        grads[x.name] = 0.0 if up is None or down is None else (up - down) / (2 * h)
    return grads


# --- the proposal ----------------------------------------------------------------------
def propose(xs: Sequence[NumericVar], blocks: Sequence[Block], text: str,
            history: Sequence[tuple[dict[str, float], int]], rng: random.Random,
            profiles: Sequence[TaskProfile] = ()) -> Plan:
    """New values for numeric variables: direction from the feedback and the shown graph
    (or a guess), step size from the history."""
    plan = Plan()
    d = feedback_direction(blocks)
    shares = _shares(xs, blocks, text, history, rng, profiles) if d == 0 else None
    if shares is not None:
        return shares
    if d == 0:
        plan.notes.append("The feedback does not say whether the output should be larger or "
                          "smaller, so the values stay as they are.")
        return plan
    want = "larger" if d > 0 else "smaller"
    f = output_function(parse_calls(text), xs, shown_values(text))
    factor = 1.0 + rng.uniform(-JITTER, JITTER)
    if f is None:
        plan.notes.append(f"The output should be {want}. No computation is shown, so I assume "
                          "the output grows with every variable.")
        step = _step_size(xs, history, d, plan) * factor / math.sqrt(len(xs))
        return _write(plan, xs, {x.name: x.value + d * step for x in xs})
    grads = sensitivities(f, xs)
    ups = [n for n, g in grads.items() if g > 0]
    downs = [n for n, g in grads.items() if g < 0]
    plan.notes.append(
        f"The output should be {want}. From the computation shown, the output increases "
        f"with {', '.join(ups) or 'no variable'} and decreases with {', '.join(downs) or 'none'}.")
    norm2 = sum(g * g for g in grads.values())
    if norm2 == 0.0:
        plan.notes.append("No variable changes the output here, so nothing moves.")
        return plan
    at = {x.name: x.value for x in xs}
    now = f(at)
    assert now is not None  # output_function checked the current values compute
    target_move = _output_step(f, xs, history, d, now, plan) * factor
    # First-order move of the output by `target_move`, at most half the bounds' width,
    # then halved until the output really moves the right way (the graph can check it).
    widths = [x.high - x.low for x in xs if x.low is not None and x.high is not None]
    cap = 0.5 * min(widths) if widths else 4 * BASE_STEP
    scale = min(target_move / norm2, cap / math.sqrt(norm2))
    for _ in range(8):
        new = {x.name: x.clip(x.value + d * scale * grads[x.name]) for x in xs}
        out = f(new)
        if out is not None and (out - now) * d > 0:
            break
        scale /= 2
    return _write(plan, xs, new)


_TITLED_HISTORY = re.compile(r"^#\s*(?:Memory|History)\b[^\n]*\n(.*?)(?=^#\s*\w|\Z)",
                             re.MULTILINE | re.DOTALL | re.IGNORECASE)


def _shares(xs: Sequence[NumericVar], blocks: Sequence[Block], text: str,
            history: Sequence[tuple[dict[str, float], int]], rng: random.Random,
            profiles: Sequence[TaskProfile]) -> Plan | None:
    """A task profile's own numeric rule (`TaskProfile.numeric_plan`, e.g. the traffic
    task's shared-resource rule) when the feedback gives no direction; None if none applies."""
    feedback = " ".join(b.fields.get("feedback", "") for b in blocks)
    descriptions = {}
    for x in xs:
        m = re.search(r"description\s*:\s*([^\n]*)", trailer(x.name, text), re.IGNORECASE)
        descriptions[x.name] = m.group(1) if m else ""
    widths = {x.name: x.high - x.low for x in xs if x.low is not None and x.high is not None}
    if not history:  # a titled section ("#Memory (earlier values ...)") the splitter left in
        history = parse_history(_TITLED_HISTORY.findall(text), [x.name for x in xs])
    past = [(e[0], getattr(e, "feedback", "")) for e in history]
    for profile in profiles:
        got = profile.numeric_plan({x.name: x.value for x in xs}, descriptions, widths, feedback,
                                   past, rng)
        if got is not None:
            new, notes = got
            return _write(Plan(notes=notes), [x for x in xs if x.name in new], new)
    return None


def _write(plan: Plan, xs: Sequence[NumericVar], new: dict[str, float]) -> Plan:
    for x in xs:
        value = x.clip(new[x.name])
        if x.kind == "int":
            moved = round(value)
            if moved == x.value and value != x.value:
                moved = int(x.value + (1 if value > x.value else -1))
            plan.values[x.name] = int(x.clip(moved))
        else:
            plan.values[x.name] = x.clip(round(value, 6))  # rounding must not cross a bound
    return plan


def _output_step(f: Callable[[dict[str, float]], float | None], xs: Sequence[NumericVar],
                 history: Sequence[tuple[dict[str, float], int]], d: int, now: float,
                 plan: Plan) -> float:
    """How far to move the output: the last change of the output (computed from the
    history's values through the graph), halved after a flip of the feedback (the target
    lies in between), grown otherwise."""
    base = max(BASE_STEP, 0.25 * abs(now))
    at = {x.name: x.value for x in xs}
    outs = [(f({**at, **v}), s) for v, s in history if s != 0]
    seq = [(o, s) for o, s in outs if o is not None] + [(now, d)]
    step = base
    for (prev, s_prev), (cur, s_cur) in itertools.pairwise(seq):
        if cur != prev:
            step = abs(cur - prev)
        step *= SHRINK if s_cur != s_prev else GROW
    if len(seq) > 1:
        flips = sum(1 for (_, a), (_, b) in itertools.pairwise(seq) if a != b)
        plan.notes.append(f"Through the graph, the history's {len(seq) - 1} earlier tries gave "
                          f"outputs with {flips} flip(s) of the feedback, so the output should "
                          f"move by about {step:.4g}.")
    return step


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
