"""`undertow perf engine`: the cost of tracing and of backward, beside a baseline.

Figures (one JSON object):
- `traced_op_us`: median µs of one call of an `@op` function on a node;
  `traced_binop_us`: the same for `node + 1.0`; `plain_call_us`: the same function
  called on plain floats, untraced — measured side by side in the same process.
- `backward_s`: subgraph backward on chains of 1,000 / 10,000 / 100,000 operators
  (`backward_numeric_s` likewise for true gradients), and `linearity` = time at
  100,000 / time at 10,000 (10 for a linear backward).
- `trace_opt`: the same figures through the `trace-opt` package (Trace), measured in
  the same run by `trace_opt_probe.py` in a subprocess of the interpreter that has it
  (see `run`), else null; `speedup` = their time / ours.
Each figure is the median over `repetitions` runs.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from undertow.engine import Node, Parameter, backward, op


@op
def _traced_add(a: float, b: float) -> float:
    return a + b


def _plain_add(a: float, b: float) -> float:
    return a + b


def _per_call_us(fn: Callable[[], Any], calls: int, repetitions: int) -> float:
    samples = []
    for _ in range(repetitions):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - t) / calls * 1e6)
    return statistics.median(samples)


def _chain(n: int) -> tuple[Parameter, Node]:
    x = Parameter(0.0, name="x")
    out: Node = x
    for _ in range(n):
        out = out + 1.0
    return x, out


def _time_backward(n: int, repetitions: int, propagator: str) -> float:
    samples = []
    for _ in range(repetitions):
        x, out = _chain(n)
        gc.collect()
        t = time.perf_counter()
        backward(out, 1.0 if propagator == "numeric" else "feedback", propagator)
        samples.append(time.perf_counter() - t)
        x.zero_feedback()
    return statistics.median(samples)


def _trace_opt(python: str, calls: int, repetitions: int, sizes: list[int]) -> dict[str, Any] | None:
    """trace-opt's figures from `trace_opt_probe.py` run by `python`, or None if unavailable."""
    script = Path(__file__).with_name("trace_opt_probe.py")
    try:
        proc = subprocess.run([python, str(script), str(calls), str(repetitions), ",".join(map(str, sizes))],
                              capture_output=True, text=True, timeout=1800)
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError, IndexError):
        return None
    return None if "error" in data else data


def run(quick: bool = False, trace_opt_python: str | None = None,
        trace_opt_sizes: list[int] | None = None) -> dict[str, Any]:
    """Measure and return the figures described in the module docstring.

    `trace_opt_python` is the interpreter that has trace-opt installed (default:
    this one; also the UNDERTOW_TRACE_OPT_PYTHON environment variable).
    """
    sizes = [1000, 10000] if quick else [1000, 10000, 100000]
    repetitions = 3 if quick else 7
    calls = 2000 if quick else 20000
    x = Parameter(1.0, name="x")
    traced = _per_call_us(lambda: _traced_add(x, 1.0), calls, repetitions)
    binop = _per_call_us(lambda: x + 1.0, calls, repetitions)
    plain = _per_call_us(lambda: _plain_add(1.0, 1.0), calls, repetitions)
    bw = {str(n): _time_backward(n, repetitions, "subgraph") for n in sizes}
    bw_num = {str(n): _time_backward(n, repetitions, "numeric") for n in sizes}
    result: dict[str, Any] = {
        "suite": "engine",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "repetitions": repetitions,
        "calls_per_repetition": calls,
        "traced_op_us": round(traced, 3),
        "traced_binop_us": round(binop, 3),
        "plain_call_us": round(plain, 3),
        "tracing_overhead_ratio": round(traced / plain, 2),
        "backward_s": {k: round(v, 5) for k, v in bw.items()},
        "backward_numeric_s": {k: round(v, 5) for k, v in bw_num.items()},
        "linearity": round(bw["100000"] / bw["10000"], 2) if "100000" in bw else None,
    }
    t_sizes = trace_opt_sizes if trace_opt_sizes is not None else ([300, 1000] if quick else [1000, 3000])
    python = trace_opt_python or os.environ.get("UNDERTOW_TRACE_OPT_PYTHON") or sys.executable
    theirs = _trace_opt(python, calls // 4, repetitions, t_sizes)
    if theirs is not None:
        ours_at = {n: _time_backward(int(n), repetitions, "subgraph") for n in theirs["backward_s"]}
        theirs["speedup"] = {
            "traced_op": round(theirs["traced_op_us"] / traced, 1),
            **{f"backward_{n}": round(t / ours_at[n], 1) for n, t in theirs["backward_s"].items()},
        }
        theirs["traced_op_us"] = round(theirs["traced_op_us"], 2)
        theirs["backward_s"] = {k: round(v, 4) for k, v in theirs["backward_s"].items()}
    result["trace_opt"] = theirs
    return result
