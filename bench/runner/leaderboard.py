"""The leaderboard: per task and optimizer, the test score over seeds (mean ± sd)
and what reaching it cost. Pure functions over `StepRecord`s."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from undertow.bench.runner.records import StepRecord


@dataclass(frozen=True)
class Row:
    """One line of the leaderboard (means over seeds; `sd` is the sample sd, 0 for one seed)."""

    task: str
    optimizer: str
    llm: str
    seeds: int
    mean: float
    sd: float
    best_val: float
    calls: float
    tokens: float
    cost_usd: float
    steps: float
    framework: str = ""   # whose optimizer: "undertow 0.1.0", "dspy 3.4.1", ...

    @property
    def tag(self) -> str:
        return f"llm={self.llm}"


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else 0.0


def leaderboard(records: Iterable[StepRecord]) -> list[Row]:
    """Rows sorted by task, then mean test score (best first). Runs without a test
    record (not finished) are left out."""
    tests: dict[tuple[str, str, str], list[StepRecord]] = defaultdict(list)
    vals: dict[tuple[str, str, str, int], list[float]] = defaultdict(list)
    for r in records:
        if r.split == "test":
            tests[(r.task, r.optimizer, r.llm)].append(r)
        else:
            vals[(r.task, r.optimizer, r.llm, r.seed)].append(r.score)
    rows = []
    for (task, opt, llm), rs in tests.items():
        scores = [r.score for r in rs]
        rows.append(Row(
            task=task, optimizer=opt, llm=llm, seeds=len(rs), mean=_mean(scores),
            sd=statistics.stdev(scores) if len(scores) > 1 else 0.0,
            best_val=_mean([max(vals[(task, opt, llm, r.seed)], default=0.0) for r in rs]),
            calls=_mean([r.calls for r in rs]), tokens=_mean([r.tokens for r in rs]),
            cost_usd=_mean([r.cost_usd for r in rs]), steps=_mean([r.step for r in rs]),
            framework=", ".join(sorted({r.framework for r in rs if r.framework}))))
    return sorted(rows, key=lambda row: (row.task, -row.mean, row.optimizer))


@dataclass(frozen=True)
class Curve:
    """Mean and sd over seeds of the validation score at each step, against the mean
    calls and cost spent by then (steps that not all seeds reached are left out)."""

    task: str
    optimizer: str
    llm: str
    steps: list[int]
    calls: list[float]
    cost: list[float]
    mean: list[float]
    sd: list[float]
    seeds: int = 1


def curves(records: Iterable[StepRecord]) -> list[Curve]:
    """One curve per (task, optimizer, llm), from the `val` records."""
    by: dict[tuple[str, str, str], dict[int, list[StepRecord]]] = defaultdict(lambda: defaultdict(list))
    seeds: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for r in records:
        if r.split == "val":
            by[(r.task, r.optimizer, r.llm)][r.step].append(r)
            seeds[(r.task, r.optimizer, r.llm)].add(r.seed)
    out = []
    for key, steps in sorted(by.items()):
        n = len(seeds[key])
        kept = [s for s in sorted(steps) if len(steps[s]) == n]
        pts = [steps[s] for s in kept]
        out.append(Curve(
            *key, steps=kept, calls=[_mean([r.calls for r in p]) for p in pts],
            cost=[_mean([r.cost_usd for r in p]) for p in pts],
            mean=[_mean([r.score for r in p]) for p in pts],
            sd=[statistics.stdev([r.score for r in p]) if len(p) > 1 else 0.0 for p in pts], seeds=n))
    return out
