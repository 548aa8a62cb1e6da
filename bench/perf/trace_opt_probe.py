"""Measures trace-opt (Trace) the way `undertow perf engine` measures undertow.

A standalone script, run in a subprocess by `engine.py` with whichever interpreter
has `trace-opt` installed (it pins dependencies that clash with ours, so it usually
lives in its own virtual environment). Prints one JSON object, or {"error": ...}.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time


def main(calls: int, repetitions: int, sizes: list[int]) -> dict:
    try:
        from importlib.metadata import version

        from opto.trace import bundle, node
    except Exception as exc:  # not installed or broken
        return {"error": f"trace-opt not importable: {exc!r}"}

    @bundle()
    def t_add(a, b):
        """a + b"""
        return a + b

    x = node(1.0, trainable=True)
    samples = []
    for _ in range(repetitions):
        t = time.perf_counter()
        for _ in range(calls):
            t_add(x, 1.0)
        samples.append((time.perf_counter() - t) / calls * 1e6)
    traced = statistics.median(samples)
    backward = {}
    for n in sizes:
        times = []
        for _ in range(max(1, repetitions // 2)):
            out = y = node(0.0, trainable=True)
            for _ in range(n):
                out = t_add(out, 1.0)
            gc.collect()
            t = time.perf_counter()
            out.backward("feedback")
            times.append(time.perf_counter() - t)
            del out, y
        backward[str(n)] = statistics.median(times)
    return {"version": version("trace-opt"), "traced_op_us": traced, "backward_s": backward,
            "repetitions": repetitions}


if __name__ == "__main__":
    calls, reps = int(sys.argv[1]), int(sys.argv[2])
    sizes = [int(s) for s in sys.argv[3].split(",")]
    print(json.dumps(main(calls, reps, sizes)))
