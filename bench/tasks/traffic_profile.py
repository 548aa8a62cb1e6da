"""The traffic task's profile for the simulated LLM: the shared-resource rule.

The sim core knows numbers move "larger" or "smaller"; how to read feedback about who
waits at a shared resource is task knowledge, so it lives here, with the traffic task,
and reaches the sim through `TrafficProfile.numeric_plan` (a `TaskProfile` hook).

Some feedback does not say "larger" or "smaller" about one output; it says who is
short of a shared resource: "peak queue 7 cars north-south and 100 east-west; the
east-west approach waits most". A model reading it, with variables described as
"green time of the east-west approach", gives more to the side that waits most and
takes some from the others. What the simulator can do depends on what it reads:

- **the starved side named** ("the X approach waits most", "X is starved", "X waits
  longest") and a variable whose description or name points at X (its description
  mentions X, or its name holds X's initials: north-south -> `ns`): that variable
  grows by a step and the others shrink by half a step (so the cycle may lengthen when
  every side is short);
- **counts per side** ("7 cars north-south and 100 east-west"): the first step grows
  with the imbalance (a tenth of the bounds' width, times 0.5 + imbalance in [0, 1]);
- **a history** of earlier values with their feedback: the step is the last move,
  halved when the starved side changed since (the balance lies in between) and grown
  by half when it did not;
- **no side named**: only a guess: one variable, picked at random, moves a random way.

Bounds shown in the request are respected and ints stay ints (see `numeric._write`).
Measured figures: docs/sim.md ("Shared resources").
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from undertow.bench.sim.profile import TaskProfile

#: Step change after the starved side changes / stays the same.
SHRINK, GROW = 0.5, 1.5
#: First step as a fraction of the bounds' width (times 0.5 + imbalance).
FIRST_STEP = 0.1
#: Share of the step taken from each variable that is not starved.
TAKE = 0.5
#: Step with no bounds shown.
UNBOUNDED_STEP = 5.0

_SIDE = r"([a-z][a-z0-9]*(?:[- ][a-z0-9]+)?)"
_STARVED = re.compile(
    rf"(?:the\s+)?{_SIDE}\s+(?:approach|side|lane|queue|direction|road|street|group)?\s*"
    r"(?:waits?\s+(?:the\s+)?(?:most|longest)|is\s+starved|starves|is\s+short(?:\s+of\s+\w+)?)",
    re.IGNORECASE)
_COUNT = re.compile(rf"(\d+(?:\.\d+)?)\s+(?:cars?|vehicles?|items?|jobs?)?\s*{_SIDE}", re.IGNORECASE)
_DELAY_WORDS = ("delay", "queue", "wait", "waiting", "congestion", "backlog")


@dataclass
class Side:
    """A variable that holds one side's share, with what the request says about it."""

    name: str
    description: str


def starved_side(feedback: str) -> str | None:
    """The side that the feedback says waits most (lower-case), or None."""
    found = _STARVED.findall(feedback)
    return found[-1].lower().strip() if found else None


def side_counts(feedback: str) -> dict[str, float]:
    """Counts the feedback gives per side: "7 cars north-south and 100 east-west"."""
    return {side.lower(): float(n) for n, side in _COUNT.findall(feedback)}


def _initials(side: str) -> str:
    return "".join(w[0] for w in re.split(r"[- ]+", side) if w)


def points_at(var: Side, side: str) -> bool:
    """Whether variable `var` is the one for `side`: its description names the side, or
    its name has the side's initials (or the side's words) as a part."""
    if re.search(rf"(?<![a-z]){re.escape(side)}(?![a-z])", var.description.lower()):
        return True
    parts = set(re.split(r"[_\W]+", var.name.lower()))
    words = [w for w in re.split(r"[- ]+", side) if w]
    return _initials(side) in parts and len(words) > 1 or all(w in parts for w in words)


def is_allocation_feedback(feedback: str) -> bool:
    """Feedback about waiting and queues (whether or not it names a starved side)."""
    low = feedback.lower()
    return any(w in low for w in _DELAY_WORDS)


def plan_shares(values: dict[str, float], sides: dict[str, Side], widths: dict[str, float],
                feedback: str, history: Sequence[tuple[dict[str, float], str]],
                rng: random.Random, jitter: float = 0.2) -> tuple[dict[str, float], list[str]]:
    """New (unrounded, unclipped) values and the reasoning notes.

    `values`: current numeric values by name; `sides`: those variables with their
    descriptions; `widths`: bounds' width per name where shown; `history`: earlier
    (values, feedback text), oldest first.
    """
    side = starved_side(feedback)
    width = min(widths.values()) if widths else UNBOUNDED_STEP / FIRST_STEP
    factor = 1.0 + rng.uniform(-jitter, jitter)
    owners = [n for n, v in sides.items() if side is not None and points_at(v, side)]
    if side is None or not owners or len(owners) == len(sides):
        name = rng.choice(sorted(values))
        step = FIRST_STEP * width * factor * rng.choice((-1, 1))
        why = ("The feedback does not say which side waits most" if side is None else
               f"No variable is described as belonging to the {side} side")
        return ({name: values[name] + step},
                [f"{why}, so I can only guess: {name} moves by {step:+.3g}."])
    counts = side_counts(feedback)
    mine = max((c for s, c in counts.items() if s == side), default=0.0)
    others = [c for s, c in counts.items()
              if s != side and any(points_at(v, s) for v in sides.values())]
    rest = max(others, default=0.0)
    imbalance = (mine - rest) / (mine + rest) if mine + rest > 0 else 0.5
    step = FIRST_STEP * width * (0.5 + max(0.0, min(1.0, imbalance)))
    notes = [(f"The {side} side waits most ({', '.join(owners)} sets its share), so it gets "
              "more and the others give some up.")]
    seq = [(v, starved_side(fb)) for v, fb in history if starved_side(fb)] + [(values, side)]
    for (prev, s_prev), (cur, s_cur) in itertools.pairwise(seq):
        moved = max((abs(cur.get(k, prev[k]) - prev[k]) for k in prev if k in values), default=0.0)
        if moved > 0:
            step = moved
        step *= SHRINK if s_cur != s_prev else GROW
    if len(seq) > 1:
        flips = sum(1 for (_, a), (_, b) in itertools.pairwise(seq) if a != b)
        notes.append(f"The history shows {len(seq) - 1} earlier tries with {flips} change(s) of "
                     f"the starved side, so the step is {step:.3g}.")
    step *= factor
    new = {n: values[n] + step if n in owners else values[n] - TAKE * step for n in sides}
    return new, notes


class TrafficProfile(TaskProfile):
    """The traffic task for the sim: no items to answer, one numeric rule (shares)."""

    name = "traffic"
    description = "green times of a signalized intersection, judged by the delay per car"
    keywords = ("green time", "intersection", "approach", "delay")

    def solve(self, item: str) -> str:
        raise ValueError("the traffic task has no question items")

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        raise ValueError("the traffic task has no question items")

    def numeric_plan(self, values: dict[str, float], descriptions: dict[str, str],
                     widths: dict[str, float], feedback: str,
                     history: Sequence[tuple[dict[str, float], str]], rng: random.Random
                     ) -> tuple[dict[str, float], list[str]] | None:
        """New values when the feedback is about waiting and queues (else None)."""
        if len(values) < 2 or not is_allocation_feedback(feedback):
            return None
        sides = {n: Side(n, descriptions.get(n, "")) for n in values}
        return plan_shares(values, sides, widths, feedback, history, rng)


PROFILE = TrafficProfile()
