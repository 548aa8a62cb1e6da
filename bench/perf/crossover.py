"""`undertow perf crossover`: from which tree size on Numba beats NumPy.

One search cycle -- score the frontier (UCT top-1), descend one path per tree, back a
value up -- timed on both CPU backends, side by side, on the same complete trees
(`bench.perf.tree.full_tree`), for a grid of batch x capacity; each cell is the
minimum over repetitions of the mean over a few cycles. Warm, Numba wins every cell;
but a process pays a one-off cost before its first Numba cycle: compiling (empty
on-disk cache, a fresh install) or loading the cached kernels. Both are measured in
fresh interpreters, and so is the first PromptMCTS step on a 4 x 1,000 forest with an
empty cache. The crossover for a run of N cycles is the smallest B*M from which N
NumPy cycles cost more than the one-off cost plus N Numba cycles; the tree backend's
default (`optimizers.tree.backends.NUMBA_MIN_NODES`) is chosen from these figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from undertow.bench.perf.tree import full_tree
from undertow.optimizers.tree.backends import NUMBA_MIN_NODES, available_backends, get_backend

BATCHES = (1, 4, 16, 64)
CAPACITIES = (1_000, 10_000, 100_000)


def _cycle(be: Any, store: Any, values: np.ndarray) -> None:
    be.score(store, "uct", 1)
    leaves = be.descend(store, "uct", 1)
    be.backup(store, leaves, values)


def _time(be: Any, store: Any, values: np.ndarray, reps: int, cycles: int) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(cycles):
            _cycle(be, store, values)
        best = min(best, (time.perf_counter() - start) / cycles)
    return best


def _probe(name: str, cache_dir: str) -> dict[str, Any]:
    """Run a `first_step` probe in a fresh interpreter with `NUMBA_CACHE_DIR=cache_dir`."""
    out = subprocess.run([sys.executable, "-m", "undertow.bench.perf.first_step", name],
                         check=True, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "NUMBA_CACHE_DIR": cache_dir})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _break_even(cells: list[dict[str, Any]], one_off_s: float, run_cycles: int) -> int | None:
    """Smallest B*M from which, in every larger cell, `run_cycles` NumPy cycles cost more
    than Numba's one-off cost plus the same cycles on Numba."""
    for i, cell in enumerate(cells):
        if all(run_cycles * (c["numpy_s"] - c["numba_s"]) > one_off_s for c in cells[i:]):
            return cell["nodes"]
    return None


def run(repetitions: int = 5, cycles: int = 5, run_cycles: int = 100) -> dict[str, Any]:
    """Time the cycle on NumPy and Numba over the grid; one JSON-ready dict."""
    if "numba" not in available_backends():
        return {"suite": "crossover", "error": "Numba is not installed"}
    numpy_be, numba_be = get_backend("numpy"), get_backend("numba")
    start = time.perf_counter()
    warm = full_tree(numba_be, 2, 64)
    _cycle(numba_be, warm, np.zeros((2, 1)))
    compile_s = time.perf_counter() - start
    cells = []
    for B in BATCHES:
        for M in CAPACITIES:
            values = np.random.default_rng(0).random((B, 1))
            t = {}
            for be in (numpy_be, numba_be):
                store = full_tree(be, B, M)
                t[be.name] = _time(be, store, values, repetitions, cycles)
            cells.append({"batch": B, "capacity": M, "nodes": B * M,
                          "numpy_s": round(t["numpy"], 7), "numba_s": round(t["numba"], 7),
                          "numpy_over_numba": round(t["numpy"] / t["numba"], 3)})
    cells.sort(key=lambda c: c["nodes"])
    per_cycle = _break_even(cells, 0.0, 1)
    with tempfile.TemporaryDirectory() as fresh:  # a fresh install: nothing compiled yet
        first_step = _probe("mcts", fresh)
        cold = _probe("numba", fresh)["first_cycle_s"]
        warm = _probe("numba", fresh)["first_cycle_s"]
    return {"suite": "crossover", "llm": "sim", "repetitions": repetitions,
            "cycles_per_repetition": cycles,
            "cycle": "score(uct, k=1) + descend(1 path) + backup, per call",
            "numba_first_call_in_process_s": round(compile_s, 3),
            "numba_one_off_s": {"empty_cache": cold, "filled_cache": warm},
            "cells": cells,
            "crossover_nodes": {"per_cycle_warm": per_cycle,
                                f"run_of_{run_cycles}_cycles_filled_cache":
                                    _break_even(cells, warm, run_cycles),
                                f"run_of_{run_cycles}_cycles_empty_cache":
                                    _break_even(cells, cold, run_cycles)},
            "first_promptmcts_step_fresh_cache": first_step,
            "default_numba_min_nodes": NUMBA_MIN_NODES, "cpus": os.cpu_count()}
