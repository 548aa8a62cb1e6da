"""`undertow perf engine`: the cost of tracing and of backward, beside a baseline.

Figures (one JSON object):
- `traced_op_us`: median µs of one call of an `@op` function on a node;
  `traced_binop_us`: the same for `node + 1.0`; `plain_call_us`: the same function
  called on plain floats, untraced — measured side by side in the same process.
- `backward_s`: subgraph backward on chains of 1,000 / 10,000 / 100,000 operators
  (`backward_numeric_s` likewise for true gradients), and `linearity` = time at
  100,000 / time at 10,000 (10 for a linear backward).
- `backward_fanin_s`: N parameters, each scaled, summed by a chain of additions into
  one output (every parameter's subgraph is O(N) nodes: the shape where a set per
  parameter costs O(N^2)); `backward_dag_s`: a seeded random DAG with N parameters
  and 3N binary operators (one parent recent, one drawn from all earlier nodes), its sinks
  summed into 4 outputs. Both at N = 300 / 3,000, each with its
  `linearity` = t(3000) / t(300) (10 for linear), in CPU seconds. The time includes reading every
  parameter's reached outputs; node lists are views, materialized only when read.
- `trace_opt`: the same figures through the `trace-opt` package (Trace), measured in
  the same run by `trace_opt_probe.py` in a subprocess of the interpreter that has it
  (see `run`), else null; `speedup` = their time / ours.
Each per-call figure is the median over `repetitions` runs; backward times (and so the
linearity ratios) are the minimum CPU seconds over repetitions, steadier on a shared
machine. trace-opt's backward figures are wall time (its probe is unchanged).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import random
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


def _fanin(n: int) -> tuple[list[Parameter], list[Node]]:
    params = [Parameter(float(i), name=f"p{i}") for i in range(n)]
    total: Node = params[0] * 1.0
    for p in params[1:]:
        total = total + p * 1.0
    return params, [total]


def _random_dag(n: int, seed: int = 0) -> tuple[list[Parameter], list[Node]]:
    rng = random.Random(seed)
    params = [Parameter(float(i), name=f"p{i}") for i in range(n)]
    nodes: list[Node] = list(params)
    for _ in range(3 * n):  # one recent parent keeps the DAG deep, one from anywhere makes it wide
        a = nodes[rng.randrange(max(0, len(nodes) - 50), len(nodes))]
        b = nodes[rng.randrange(len(nodes))]
        nodes.append(a + b if rng.random() < 0.5 else a * b)
    used = {id(q) for node in nodes for q in node.parents}
    sinks = [node for node in nodes if id(node) not in used]
    outs = []  # four outputs, each summing a quarter of the sinks: every node is upstream
    for k in range(4):
        part = sinks[k::4] or [nodes[-1]]
        total = part[0]
        for node in part[1:]:
            total = total + node
        outs.append(total)
    return params, outs


def _time_graph(make: Callable[[int], tuple[list[Parameter], list[Node]]], n: int,
                repetitions: int) -> float:
    """Minimum CPU seconds of a subgraph backward on `make(n)` (graph built outside the timing).

    CPU time of this process, not wall time: on a loaded machine a 50 ms call is
    preempted where a 1 ms call is not, which would bend a linearity ratio.
    """
    samples = []
    for _ in range(repetitions):
        params, outs = make(n)
        gc.collect()
        t = time.process_time()
        reached = backward(outs, [f"feedback {k}" for k in range(len(outs))])
        for p in reached:
            p.feedback[-1].outputs  # noqa: B018 - what a consumer reads first
        samples.append(time.process_time() - t)
        del params, outs, reached
    return min(samples)


def _time_backward(n: int, repetitions: int, propagator: str) -> float:
    samples = []
    for _ in range(repetitions):
        x, out = _chain(n)
        gc.collect()
        t = time.process_time()  # CPU time, as in `_time_graph`
        backward(out, 1.0 if propagator == "numeric" else "feedback", propagator)
        samples.append(time.process_time() - t)
        x.zero_feedback()
    return min(samples)


def wide_backward(repetitions: int, sizes: tuple[int, int] = (300, 3000)) -> dict[str, Any]:
    """Backward on the fan-in and random-DAG graphs at two sizes, with their linearity."""
    out: dict[str, Any] = {}
    for key, make in (("backward_fanin_s", _fanin), ("backward_dag_s", _random_dag)):
        t = {str(n): _time_graph(make, n, repetitions) for n in sizes}
        out[key] = {**{k: round(v, 5) for k, v in t.items()},
                    "linearity": round(t[str(sizes[1])] / t[str(sizes[0])], 2)}
    return out


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
        **wide_backward(repetitions),
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
