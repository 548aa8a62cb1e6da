"""Throughput of the reasoning tasks: how fast items are made, solved and scored.

`run()` returns one dict (printed as JSON by `undertow perf tasks` once registered).
It tells a benchmark planner whether item generation or grading could ever matter
next to LLM calls: every figure is items per second, the median of `repeats` runs.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from undertow.bench.tasks.reasoning import available, get_task, make_splits


def _rate(fn: Callable[[], int], repeats: int) -> dict[str, float | list[float]]:
    """Median items/s of `fn` (which returns how many items it handled) over `repeats` runs."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        n = fn()
        rates.append(n / max(time.perf_counter() - start, 1e-9))
    return {"median_per_s": round(statistics.median(rates), 1),
            "runs_per_s": [round(r, 1) for r in rates]}


def run(quick: bool = False) -> dict[str, object]:
    """Items/s of generate, solve, score and make_splits for every available task."""
    n, repeats = (200, 3) if quick else (2000, 5)
    result: dict[str, object] = {"suite": "tasks", "items_per_run": n, "repeats": repeats,
                                 "tasks": {}}
    for name in available():
        task = get_task(name)
        examples = [task.generate(random.Random(i)) for i in range(n)]

        def generate(task=task) -> int:  # defaults bind this task
            rng = random.Random(0)
            for _ in range(n):
                task.generate(rng)
            return n

        def solve(task=task, examples=examples) -> int:
            for ex in examples:
                task.solve(ex.input)
            return n

        def score(task=task, examples=examples) -> int:
            for ex in examples:
                task.score(f"So the answer is {ex.target}.", ex.target)
            return n

        def splits(name=name) -> int:
            make_splits(name, 0, n // 2, n // 4, n // 4)
            return n

        result["tasks"][name] = {  # type: ignore[index]
            "generate": _rate(generate, repeats), "solve": _rate(solve, repeats),
            "score": _rate(score, repeats), "make_splits": _rate(splits, repeats),
        }
    return result


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
