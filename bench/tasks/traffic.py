"""A signalized intersection as a queue model, with integer green times to tune.

Two approaches (north-south and east-west) share one signal. Each second, cars
arrive at random (seeded Bernoulli arrivals at each approach's rate); during its
green, an approach discharges up to `saturation` cars per second; each phase change
costs `lost_time` seconds of all-red. The metric is the average delay per car over
an hour (queue-seconds / arrivals), lower is better. The trainable parameters are the
two green times (`int`, seconds). The fixed-cycle baseline gives both 30 s.

Feedback is what a traffic engineer would read off the counters: the average delay,
the peak queue of each approach, and which approach is starved.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from undertow.engine import Node, Parameter, op

FIXED_CYCLE = (30, 30)


@dataclass(frozen=True)
class Intersection:
    """One scenario: arrival rates (cars/s), saturation flow, lost time, horizon, seed."""

    rate_ns: float
    rate_ew: float
    saturation: float = 0.5
    lost_time: int = 4
    horizon: int = 3600
    seed: int = 0

    def parameters(self, start: tuple[int, int] = FIXED_CYCLE) -> list[Parameter]:
        """The two green times, bounded to [5, 90] s, starting at the fixed cycle."""
        return [Parameter(start[0], bounds=(5, 90), name="green_ns",
                          description="green time of the north-south approach, seconds"),
                Parameter(start[1], bounds=(5, 90), name="green_ew",
                          description="green time of the east-west approach, seconds")]

    def simulate(self, green_ns: int, green_ew: int) -> dict[str, float]:
        """Run the hour; return delay per car and peak queues (deterministic per seed)."""
        rng = random.Random(self.seed)
        cycle = [("ns", green_ns), ("red", self.lost_time), ("ew", green_ew), ("red", self.lost_time)]
        schedule = [phase for phase, length in cycle for _ in range(length)]
        queue = {"ns": 0, "ew": 0}
        credit = {"ns": 0.0, "ew": 0.0}
        peak = {"ns": 0, "ew": 0}
        waited = 0
        arrivals = 0
        for t in range(self.horizon):
            for side, rate in (("ns", self.rate_ns), ("ew", self.rate_ew)):
                if rng.random() < rate:
                    queue[side] += 1
                    arrivals += 1
            green = schedule[t % len(schedule)]
            if green in queue:
                credit[green] += self.saturation
                leave = min(queue[green], int(credit[green]))
                queue[green] -= leave
                credit[green] -= leave
                if queue[green] == 0:
                    credit[green] = min(credit[green], 1.0)
            for side, waiting in queue.items():
                peak[side] = max(peak[side], waiting)
                waited += waiting
        return {"delay": waited / max(arrivals, 1), "peak_ns": peak["ns"], "peak_ew": peak["ew"]}

    def feedback(self, result: dict[str, float]) -> dict[str, object]:
        """Score (negative delay, to maximize) and a sentence."""
        starved = "north-south" if result["peak_ns"] > result["peak_ew"] else "east-west"
        text = (f"average delay {result['delay']:.1f} s per car; peak queue {result['peak_ns']} cars "
                f"north-south and {result['peak_ew']} east-west; the {starved} approach waits most")
        return {"score": -result["delay"], "text": text}


@op
def run_intersection(green_ns: int, green_ew: int, scenario: Intersection) -> dict[str, float]:
    """Simulate one hour of the intersection with these green times."""
    return scenario.simulate(green_ns, green_ew)


def generate(seed: int) -> Intersection:
    """A scenario with unbalanced demand, so the fixed cycle is not optimal."""
    rng = random.Random(seed)
    heavy, light = rng.uniform(0.22, 0.3), rng.uniform(0.04, 0.12)
    rates = (heavy, light) if rng.random() < 0.5 else (light, heavy)
    return Intersection(rate_ns=round(rates[0], 3), rate_ew=round(rates[1], 3), seed=seed)


def evaluate(scenario: Intersection, params: list[Parameter]) -> tuple[Node, dict[str, object]]:
    """One forward pass: the traced result node and its feedback."""
    out = run_intersection(params[0], params[1], scenario)
    return out, scenario.feedback(out.value)
