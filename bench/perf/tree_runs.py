"""`undertow perf tree --runs N`: the distribution of UCT score eta over N runs per cell.

One `perf tree` run gives one eta per cell (the median of 5 paired ratios); on this
shared machine it moves from run to run. This measures, for every numba cell with
B x M >= 1e6 (the target cells; the quick grid's cells with `quick`), N runs of
`repetitions` paired (triad, score) calls each, and reports per cell the min /
median / max over runs of:

- ``eta``: the run's median paired eta (logical bytes per second of the score call /
  the triad's bandwidth measured right before it), as in `perf tree`;
- ``ns_per_node``: the run's median score time per node (the kernel's own speed);
- ``triad_gbs``: the run's median triad bandwidth (the machine's at that moment).

and the coefficient of variation over runs of the last two, which says where eta's
spread comes from. A cell's runs follow each other (its store, up to 2 GB, is built
once), with the cells in turn.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from undertow.bench.perf.tree import (
    BYTES_PER_NODE,
    MEMORY_CAP_BYTES,
    SCORE_BYTES,
    CpuTriad,
    _grid,
    _timed,
    _warm_up,
    full_tree,
)
from undertow.optimizers.tree import Policy
from undertow.optimizers.tree.backends import get_backend

TARGET_NODES = 10**6
ETA_GOAL = 0.5


def _stats(values: list[float]) -> dict[str, float]:
    mean = statistics.fmean(values)
    cv = statistics.pstdev(values) / mean if mean else 0.0
    return {"min": round(min(values), 4), "median": round(statistics.median(values), 4),
            "max": round(max(values), 4), "cv": round(cv, 4)}


def target_cells(quick: bool) -> list[tuple[int, int]]:
    """The cells whose eta has a goal: B x M >= 1e6 within the memory cap (quick: its grid)."""
    if quick:
        return _grid(True)
    return [(B, M) for B, M in _grid(False)
            if B * M >= TARGET_NODES and B * M * BYTES_PER_NODE <= MEMORY_CAP_BYTES]


def eta_runs(runs: int, quick: bool = False, repetitions: int = 5) -> dict[str, Any]:
    """Per target cell, eta / ns per node / triad bandwidth over `runs` runs (see module doc)."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    be = get_backend("numba")
    triad = CpuTriad(1 << (22 if quick else 25))
    _warm_up(be)
    nbytes_per_node = SCORE_BYTES[Policy.UCT]
    cells = []
    t0 = time.perf_counter()
    load_before = os.getloadavg()
    for B, M in target_cells(quick):
        store = full_tree(be, B, M)
        for _ in range(2):
            be.score(store, Policy.UCT, 1)
        etas, ns, bws = [], [], []
        for _ in range(runs):
            times, gbs = [], []
            for _ in range(repetitions):
                gbs.append(triad.gbs(1))
                times.append(_timed(lambda st=store: be.score(st, Policy.UCT, 1)))
            paired = [B * M * nbytes_per_node / t / (bw * 1e9) for t, bw in zip(times, gbs, strict=True)]
            etas.append(statistics.median(paired))
            ns.append(statistics.median(times) / (B * M) * 1e9)
            bws.append(statistics.median(gbs))
        store = None  # free it before the next cell's is built
        cells.append({"B": B, "M": M, "runs": runs, "eta": _stats(etas),
                      "runs_eta_ge_goal": sum(e >= ETA_GOAL for e in etas),
                      "ns_per_node": _stats(ns), "triad_gbs": _stats(bws),
                      "eta_each": [round(e, 3) for e in etas]})
    every = [e for c in cells for e in c["eta_each"]]
    return {"runs": runs, "repetitions": repetitions, "goal": ETA_GOAL, "cells": cells,
            "eta_range_all_runs": [min(every), max(every)] if every else None,
            "share_of_runs_eta_ge_goal": (sum(e >= ETA_GOAL for e in every) / len(every)) if every else None,
            "load_avg": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in os.getloadavg()]},
            "seconds": round(time.perf_counter() - t0, 1)}
