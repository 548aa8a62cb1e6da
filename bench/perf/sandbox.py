"""`undertow perf sandbox`: what a sandboxed call costs at each isolation level.

Measured side by side in one run, on one machine: a plain in-process call, the
`InProcessRunner`, the old pool (`legacy_sandbox`, one warm worker that runs every
call itself: the baseline), and `SandboxPool` at every isolation level this machine
reaches (each call in a child forked for it, then killed with all it started).
Also reported: the floor that forking alone costs here, a bare fork/exit/wait cycle
of this (large) process and of a fresh `python -I` the size of a worker: the price
of one child per call, which is most of the per-call overhead.
Medians over `repeats` repetitions of `calls` calls; the levels and the baseline are
interleaved repetition by repetition, so a load change hits them alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from undertow.bench.perf.legacy_sandbox.pool import SandboxPool as LegacyPool
from undertow.engine.sandbox import InProcessRunner, SandboxPool, available

SOURCE = "def step(state, action):\n    return {'pos': state['pos'] + action, 'hits': state['hits'][:]}\n"
ARGS = ({"pos": 3, "hits": [1, 2, 3]}, 1)


def _per_call_us(call: Callable[[], Any], calls: int) -> float:
    t = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - t) / calls * 1e6


def _fork_floor_us(n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    return (time.perf_counter() - t) / n * 1e6


_LEAN_FLOOR = """
import os, socket, sys, time
n = int(sys.argv[1])
t = time.perf_counter()
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print((time.perf_counter() - t) / n * 1e6)
"""


def _lean_fork_floor_us(n: int) -> float:
    """The same cycle in a fresh `python -I` about the size of a sandbox worker."""
    import subprocess

    out = subprocess.run([sys.executable, "-I", "-c", _LEAN_FLOOR, str(n)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def run(quick: bool = False) -> dict[str, Any]:
    """Measure; `quick` uses fewer calls and repetitions (a smoke run for tests)."""
    calls, repeats = (20, 3) if quick else (300, 7)
    ns: dict[str, Any] = {}
    exec(compile(SOURCE, "<bench>", "exec"), ns)  # noqa: S102 - our own benchmark function
    step = ns["step"]
    runner = InProcessRunner()
    levels = [lvl for lvl, why in available().items() if why is None]
    pools: dict[str, Any] = {"old_pool": LegacyPool(workers=1)}
    pools.update({lvl: SandboxPool(workers=1, isolation=lvl) for lvl in levels})
    times: dict[str, list[float]] = {name: [] for name in ["direct", "in_process_runner", "fork_floor",
                                                           "lean_fork_floor", *pools]}
    first_ms: dict[str, float] = {}
    try:
        for name, pool in pools.items():
            t = time.perf_counter()
            pool.run(SOURCE, "step", ARGS).unwrap()
            first_ms[name] = round((time.perf_counter() - t) * 1e3, 1)
        for _ in range(repeats):
            times["direct"].append(_per_call_us(lambda: step(*ARGS), calls))
            times["in_process_runner"].append(_per_call_us(lambda: runner.run(SOURCE, "step", ARGS).unwrap(), calls))
            times["fork_floor"].append(_fork_floor_us(calls))
            times["lean_fork_floor"].append(_lean_fork_floor_us(calls))
            for name, pool in pools.items():
                times[name].append(_per_call_us(lambda p=pool: p.run(SOURCE, "step", ARGS).unwrap(), calls))
        default = SandboxPool(workers=1).level
    finally:
        for pool in pools.values():
            pool.close()
    med = {name: statistics.median(v) for name, v in times.items()}
    old = med["old_pool"]
    per_level = {lvl: {"run_us": round(med[lvl], 1), "ratio_to_old_pool": round(med[lvl] / old, 2),
                       "first_call_ms": first_ms[lvl], "run_us_all": [round(x, 1) for x in times[lvl]]}
                 for lvl in levels}
    return {
        "benchmark": "sandbox", "quick": quick, "calls_per_repeat": calls, "repeats": repeats,
        "python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "default_level": default,
        "unavailable_levels": {lvl: why for lvl, why in available().items() if why is not None},
        "direct_call_us": round(med["direct"], 3),
        "in_process_runner_us": round(med["in_process_runner"], 2),
        "fork_floor_us": round(med["fork_floor"], 1),
        "lean_fork_floor_us": round(med["lean_fork_floor"], 1),
        "old_pool_run_us": round(old, 1),
        "old_pool_run_us_all": [round(x, 1) for x in times["old_pool"]],
        "levels": per_level,
        "default_ratio_to_old_pool": per_level[default]["ratio_to_old_pool"],
        "default_over_lean_fork_floor_us": round(med[default] - med["lean_fork_floor"], 1),
    }
