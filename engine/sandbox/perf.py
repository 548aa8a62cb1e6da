"""Benchmark: what running a call in the sandbox costs over calling it in-process.

`run(quick=False)` returns a JSON-ready dict of medians over repetitions:
per-call time (µs) of a plain in-process call, of `InProcessRunner.run`, of
`SandboxPool.run` and of a `sandboxed()` callable on a warm pool (the round trip:
pickling, two pipe hops, the worker's bookkeeping), plus the time to start a worker
and to recover from a crash. The lead can expose it as `undertow perf sandbox`.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from undertow.engine.sandbox.functions import sandboxed
from undertow.engine.sandbox.inprocess import InProcessRunner
from undertow.engine.sandbox.pool import SandboxPool

SOURCE = "def step(state, action):\n    return {'pos': state['pos'] + action, 'hits': state['hits'][:]}\n"
ARGS = ({"pos": 3, "hits": [1, 2, 3]}, 1)


def _per_call_us(call: Callable[[], Any], calls: int, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            call()
        out.append((time.perf_counter() - t) / calls * 1e6)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Measure; `quick` uses fewer calls and repetitions (a smoke run for tests)."""
    calls, repeats, starts = (50, 3, 2) if quick else (2000, 7, 5)
    ns: dict[str, Any] = {}
    exec(compile(SOURCE, "<bench>", "exec"), ns)  # noqa: S102 - our own benchmark function
    step = ns["step"]
    runner = InProcessRunner()
    direct = _per_call_us(lambda: step(*ARGS), calls, repeats)
    in_runner = _per_call_us(lambda: runner.run(SOURCE, "step", ARGS).unwrap(), calls, repeats)

    start_ms, restart_ms = [], []
    with SandboxPool(workers=1) as pool:
        for _ in range(starts):
            t = time.perf_counter()
            pool.run(SOURCE, "step", ARGS).unwrap()    # starts the worker, compiles, calls
            start_ms.append((time.perf_counter() - t) * 1e3)
            pool.run("import os\ndef boom():\n    os._exit(1)\n", "boom", [])
            t = time.perf_counter()
            pool.run(SOURCE, "step", ARGS).unwrap()
            restart_ms.append((time.perf_counter() - t) * 1e3)
            pool.run("import os\ndef boom():\n    os._exit(1)\n", "boom", [])
        pool.run(SOURCE, "step", ARGS).unwrap()
        fn = sandboxed("step", SOURCE, pool)
        pooled = _per_call_us(lambda: pool.run(SOURCE, "step", ARGS).unwrap(), calls, repeats)
        callable_ = _per_call_us(lambda: fn(*ARGS), calls, repeats)
        isolation = pool.network_isolation

    med = statistics.median
    return {
        "benchmark": "sandbox", "quick": quick, "calls_per_repeat": calls, "repeats": repeats,
        "python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
        "network_isolation": isolation,
        "direct_call_us": round(med(direct), 3),
        "in_process_runner_us": round(med(in_runner), 2),
        "pool_run_us": round(med(pooled), 1),
        "sandboxed_callable_us": round(med(callable_), 1),
        "pool_overhead_us": round(med(pooled) - med(direct), 1),
        "worker_first_call_ms": round(med(start_ms), 1),
        "restart_after_crash_ms": round(med(restart_ms), 1),
        "pool_run_us_all": [round(x, 1) for x in pooled],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
