"""Measures undertow's OptoPrime steps in a fresh interpreter, as trace-opt's are measured.

    python -m undertow.bench.perf.optoprime_probe N BASE_URL REPETITIONS LIMIT_S

`undertow perf bench` runs this once per N, so that both frameworks' steps are timed
the same way: each in an interpreter of its own that has done nothing but import,
one warm-up step on N = 10, then up to REPETITIONS steps on fresh graphs of N
parameters (stopping once LIMIT_S of step time is spent). Measured in the bench's own
process instead, after the runner and executor parts, our steps carried that process's
larger heap and whatever Ray was still shutting down. Prints one JSON object: `steps`,
a list of `_undertow_step` results (see `bench.py`).
"""

from __future__ import annotations

import json
import sys


def main(n: int, base_url: str, repetitions: int, limit_s: float) -> dict:
    from undertow.bench.perf.bench import _undertow_step
    from undertow.optimizers.opto.tokens import token_counter

    count = token_counter()
    _undertow_step(10, base_url, count)  # warm-up: imports, client, tokenizer
    steps: list[dict] = []
    spent = 0.0
    while len(steps) < max(1, repetitions) and (not steps or spent < limit_s):
        steps.append(_undertow_step(n, base_url, count))
        spent += steps[-1]["step_wall_s"] + steps[-1]["backward_ms"] / 1e3
    return {"steps": steps}


if __name__ == "__main__":
    a = sys.argv[1:]
    print(json.dumps(main(int(a[0]), a[1], int(a[2]), float(a[3]))))
