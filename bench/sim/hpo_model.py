"""How the sim answers hyperparameter requests, from what `hpo_read` found.

- `warm_start`: a spread of points over the space as written (a stratified,
  jittered design, shrunk a little toward the centre as people tend to avoid the
  extremes; choices cycled), on the log scale where the request hints at one;
- `conditional`: the best shown configurations moved along the direction in which
  the shown scores rise (the mean of the top third minus the mean of the rest, on
  normalised values), further the higher the target sits above the best score,
  plus noise that shrinks as the history grows; now and then a wild guess;
- `predict`: k-nearest-neighbour regression on normalised configurations (choices
  count as a fixed distance when they differ), the neighbours' spread as the
  uncertainty, and noise drawn from it.

The sim knows nothing of any model or dataset: more shown history, better answers.
"""

from __future__ import annotations

import math
import random
from typing import Any

from undertow.bench.sim.hpo_read import SpaceDim

Config = dict[str, Any]


def _numeric(dims: list[SpaceDim]) -> list[SpaceDim]:
    return [d for d in dims if d.kind != "choice"]


def warm_start(dims: list[SpaceDim], n: int, rng: random.Random) -> list[Config]:
    """`n` points spread over the space."""
    strata = {d.name: rng.sample(range(n), n) for d in _numeric(dims)}
    choice_orders = {d.name: rng.sample(d.choices, len(d.choices)) for d in dims if d.kind == "choice"}
    out = []
    for i in range(n):
        config: Config = {}
        for d in dims:
            if d.kind == "choice":
                order = choice_orders[d.name]
                config[d.name] = order[i % len(order)]
            else:
                u = (strata[d.name][i] + 0.5 + rng.uniform(-0.4, 0.4)) / n
                config[d.name] = d.value(0.5 + 0.85 * (u - 0.5))
        out.append(config)
    return out


def _units(config: Config, dims: list[SpaceDim]) -> list[float]:
    return [d.unit(config[d.name]) for d in _numeric(dims)]


def conditional(dims: list[SpaceDim], history: list[tuple[Config, float]], n: int,
                target: float | None, rng: random.Random) -> list[Config]:
    """`n` configurations near the best shown ones, pushed toward higher scores."""
    if len(history) < 2:
        base = warm_start(dims, n, rng)
        return base
    ranked = sorted(history, key=lambda h: -h[1])
    scores = [s for _, s in ranked]
    best, worst = scores[0], scores[-1]
    spread = best - worst or 1.0
    gap = 0.1 if target is None else min(1.0, max(0.0, (target - best) / spread))
    numeric = _numeric(dims)
    top = ranked[: max(1, len(ranked) // 3)]
    rest = ranked[len(top):] or ranked
    mean = lambda rows: [sum(_units(c, dims)[j] for c, _ in rows) / len(rows)  # noqa: E731
                         for j in range(len(numeric))]
    direction = [a - b for a, b in zip(mean(top), mean(rest), strict=True)]
    noise = 0.25 / math.sqrt(1 + len(history) / 4)
    anchors = ranked[: min(3, len(ranked))]
    by_choice: dict[str, dict[Any, list[float]]] = {}
    for d in dims:
        if d.kind == "choice":
            seen: dict[Any, list[float]] = {}
            for c, s in history:
                seen.setdefault(c[d.name], []).append(s)
            by_choice[d.name] = seen
    out = []
    for i in range(n):
        if rng.random() < 0.1:  # a guess off the trend, as models make
            out.append(warm_start(dims, 1, rng)[0])
            continue
        anchor = anchors[i % len(anchors)][0]
        units = _units(anchor, dims)
        config: Config = {}
        for j, d in enumerate(numeric):
            step = direction[j] * (0.3 + gap) * rng.uniform(0.3, 1.0)
            config[d.name] = d.value(units[j] + step + rng.gauss(0, noise))
        for d in dims:
            if d.kind != "choice":
                continue
            r = rng.random()
            if r < 0.7:
                config[d.name] = anchor[d.name]
            elif r < 0.9 and by_choice[d.name]:
                seen = by_choice[d.name]
                config[d.name] = max(seen, key=lambda c: sum(seen[c]) / len(seen[c]))
            else:
                config[d.name] = rng.choice(d.choices)
        out.append({d.name: config[d.name] for d in dims})
    return out


def _distance(a: Config, b: Config, dims: list[SpaceDim]) -> float:
    total = 0.0
    for d in dims:
        if d.kind == "choice":
            total += 0.0 if str(a[d.name]) == str(b[d.name]) else 0.35
        else:
            total += (d.unit(a[d.name]) - d.unit(b[d.name])) ** 2
    return math.sqrt(total / max(1, len(dims)))


def predict(dims: list[SpaceDim], history: list[tuple[Config, float]], candidate: Config,
            rng: random.Random) -> float:
    """A predicted score for `candidate`: neighbours' weighted mean plus seeded noise."""
    if not history:
        return round(rng.uniform(0, 1), 4)
    scores = [s for _, s in history]
    spread = (max(scores) - min(scores)) or max(abs(max(scores)), 1.0) * 0.05
    near = sorted(((_distance(candidate, c, dims), s) for c, s in history))[: min(4, len(history))]
    weights = [1.0 / (dist + 0.05) for dist, _ in near]
    total = sum(weights)
    mean = sum(w * s for w, (_, s) in zip(weights, near, strict=True)) / total
    var = sum(w * (s - mean) ** 2 for w, (_, s) in zip(weights, near, strict=True)) / total
    far = sum(dist for dist, _ in near) / len(near)
    std = math.sqrt(var) + spread * (0.02 + 0.3 * far)
    return round(mean + rng.gauss(0, 0.5 * std), 4)
