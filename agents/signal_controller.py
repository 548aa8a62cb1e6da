"""A traffic-signal controller whose two green times are trainable integers.

The agent a traffic engineer would write: two `int` parameters (the green time of
the north-south and of the east-west approach, in seconds, bounded so that every
approach gets some green and a cycle stays short enough to be safe) and one traced
step, `plan(scenario)`, that runs the intersection with those green times and returns
what the counters say (average delay per car, peak queue of each approach).

The scenario is anything with `simulate(green_ns, green_ew) -> dict`, such as the
bench's `undertow.bench.tasks.traffic.Intersection`; the agent does not depend on it.
Optimizers read the result's feedback (a sentence naming the delay, the peak queues
and the approach that waits most) and propose new green times; black-box search
(TPE) and gradient-free numeric optimizers only need the score.

    from undertow.agents import SignalController
    from undertow.bench.tasks.traffic import generate

    agent = SignalController()                 # the fixed cycle: 30 s / 30 s
    result = agent.plan(generate(seed=1))      # a traced node; .value is the dict
"""

from __future__ import annotations

from typing import Protocol

from undertow.engine import Module, Node, Parameter, op

#: Seconds of green each approach may get (inclusive).
GREEN_BOUNDS = (5, 90)
#: The fixed-cycle baseline: both approaches get 30 s.
FIXED_CYCLE = (30, 30)


class Scenario(Protocol):
    """What the controller can run: an intersection model."""

    def simulate(self, green_ns: int, green_ew: int) -> dict[str, float]:
        """Run the intersection with these green times; return its counters."""
        ...


@op
def simulate_signal(green_ns: int, green_ew: int, scenario: Scenario) -> dict[str, float]:
    """Run the intersection for its horizon with these green times (seconds); returns the
    average delay per car and the peak queue of each approach."""
    return scenario.simulate(green_ns, green_ew)


class SignalController(Module):
    """Two trainable green times (`green_ns`, `green_ew`, ints in `bounds`) and a traced plan.

    Args:
        green_ns: starting green time of the north-south approach, seconds.
        green_ew: starting green time of the east-west approach, seconds.
        bounds: inclusive (low, high) seconds for both; starting values must lie inside.
    """

    def __init__(self, green_ns: int = FIXED_CYCLE[0], green_ew: int = FIXED_CYCLE[1],
                 bounds: tuple[int, int] = GREEN_BOUNDS) -> None:
        low, high = bounds
        if not (isinstance(low, int) and isinstance(high, int) and 0 < low <= high):
            raise ValueError(f"bounds must be two ints 0 < low <= high, got {bounds!r}")
        self.green_ns = Parameter(
            int(green_ns), bounds=(low, high), name="green_ns",
            description="green time of the north-south approach, seconds")
        self.green_ew = Parameter(
            int(green_ew), bounds=(low, high), name="green_ew",
            description="green time of the east-west approach, seconds")

    @property
    def greens(self) -> tuple[int, int]:
        """The current (north-south, east-west) green times."""
        return int(self.green_ns.value), int(self.green_ew.value)

    def plan(self, scenario: Scenario) -> Node:
        """Run `scenario` with the current green times: a traced node whose value is the
        result dict and whose parents are both green-time parameters."""
        return simulate_signal(self.green_ns, self.green_ew, scenario)

    forward = plan

    def __call__(self, scenario: Scenario) -> Node:
        return self.plan(scenario)

    def __repr__(self) -> str:
        return f"SignalController(green_ns={self.greens[0]}, green_ew={self.greens[1]})"


