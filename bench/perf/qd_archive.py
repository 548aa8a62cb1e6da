"""`undertow perf qd-archive`: batch insert into a MAP-Elites archive, NumPy vs Numba vs a
plain Python loop (the same semantics), side by side in one process.

For each (cells C, batch n) it times `repeats` inserts of random batches into a fresh
archive and reports microseconds per insert and candidates per second; the Python loop
is the baseline the vectorized kernels are compared with (`speedup_vs_python`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from undertow.optimizers.qd import Archive, available_backends


def _python_insert(fitness: np.ndarray, payload: np.ndarray, cells: np.ndarray, values: np.ndarray,
                   ids: np.ndarray) -> None:
    best: dict[int, int] = {}
    for i, c in enumerate(cells.tolist()):
        if c not in best or values[i] > values[best[c]]:
            best[c] = i
    for c, i in best.items():
        if values[i] > fitness[c]:
            fitness[c], payload[c] = values[i], ids[i]


def _time(fn: Any, batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    start = time.perf_counter()
    for cells, values, ids in batches:
        fn(cells, values, ids)
    return (time.perf_counter() - start) / len(batches)


def run(quick: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    sizes = [(75, 16), (4096, 1024)] if quick else [(75, 16), (4096, 1024), (65536, 65536)]
    repeats = 20 if quick else 50
    rows = []
    for cells_n, batch in sizes:
        batches = [(rng.integers(0, cells_n, batch), rng.random(batch), np.arange(batch) + k * batch)
                   for k in range(repeats)]
        row: dict[str, Any] = {"cells": cells_n, "batch": batch}
        ref = Archive((cells_n,))
        row["python_us"] = 1e6 * _time(lambda c, v, i: _python_insert(ref.fitness, ref.payload, c, v, i), batches)
        results = {}
        for name in available_backends():
            a = Archive((cells_n,), backend=name)
            a.insert(*batches[0])                  # warm-up (Numba compiles or loads its cache)
            a = Archive((cells_n,), backend=name)
            row[f"{name}_us"] = 1e6 * _time(a.insert, batches)
            row[f"{name}_candidates_per_s"] = batch / (row[f"{name}_us"] / 1e6)
            row[f"{name}_speedup_vs_python"] = row["python_us"] / row[f"{name}_us"]
            results[name] = (a.fitness.copy(), a.payload.copy())
        if len(results) > 1:
            row["backends_agree"] = all(np.array_equal(results["numpy"][0], r[0]) and
                                        np.array_equal(results["numpy"][1], r[1]) for r in results.values())
        row["python_agrees"] = bool(np.array_equal(ref.payload, results["numpy"][1]))
        rows.append(row)
    return {"suite": "qd-archive", "backends": available_backends(), "rows": rows}
