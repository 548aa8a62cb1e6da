"""Benchmark of the report on large graphs: time to build and render, size, what was cut.

    from undertow.optimizers.opto.perf import report_benchmark
    report_benchmark(n_nodes=10_000)   # -> {"build_s": ..., "render_s": ..., "tokens": ...}

A speed check returns figures as a dict (never a timed unit test); docs/optoprime.md
records measured values.
"""

from __future__ import annotations

import time
from typing import Any

from undertow.engine import Parameter, backward
from undertow.optimizers.opto.graph import GraphView
from undertow.optimizers.opto.report import render_report


def report_benchmark(n_nodes: int = 10_000, n_outputs: int = 32, max_tokens: int = 6000,
                     repeats: int = 3) -> dict[str, Any]:
    """Best-of-`repeats` seconds to merge and render the subgraph of a graph of about
    `n_nodes` operator nodes: a chain of additions ending in `n_outputs` outputs."""
    x = Parameter(0.0, name="x0")
    v = x
    for _ in range(max(n_nodes - n_outputs, 1)):
        v = v + 1.0
    outs = [v * float(k) for k in range(n_outputs)]
    backward(outs, [f"output {k} should be smaller" for k in range(n_outputs)])
    build, render = float("inf"), float("inf")
    report = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        view = GraphView.build(x.feedback, {id(x): "x0"})
        t1 = time.perf_counter()
        report = render_report(view, max_tokens=max_tokens)
        t2 = time.perf_counter()
        build, render = min(build, t1 - t0), min(render, t2 - t1)
    assert report is not None
    return {"n_nodes": len(x.feedback[0].nodes), "n_outputs": n_outputs, "build_s": round(build, 4),
            "render_s": round(render, 4), "tokens": report.tokens, "max_tokens": max_tokens,
            "left_out": report.left_out}
