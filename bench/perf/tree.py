"""`undertow perf tree`: tree-store kernels in nodes/s and bandwidth efficiency.

One run measures, side by side on the same machine:

* ``bandwidth_gbs``: a STREAM triad (``a = b + s * c`` over float64 arrays far larger
  than the caches, 24 bytes per element), run with Numba's parallel loop on all
  cores **right before every timed `score` call**, whose eta is taken against it
  (this shared machine's bandwidth moves by tens of percent within seconds); each
  record carries the median of its triads and the top level the median and range of
  all of them. The GPU's triad is measured the same way for the CuPy records;
* ``object_tree_nodes_per_s``: a PromptAgent-style tree of Python node objects whose
  UCT is computed node by node (the baseline the store replaces), and
  ``object_tree_lean_nodes_per_s``: the same tree as a careful Python programmer
  writes it (running sums, ``math``), the stricter baseline;
* ``results``: for each backend, op and policy, and B x M grid cell, the median
  ``nodes_per_s`` and ``eta`` = logical bytes moved per second / bandwidth (the
  median over repetitions of each call against its own triad), and ``*_best`` (the
  fastest call, the largest paired eta). Logical bytes count each
  field an op reads or writes once per node it touches (``SCORE_BYTES`` and the
  comments in ``_bench_cell``); cache reuse is not counted;
* ``promptmcts``: one PromptMCTS run on the simulator (llm=sim) and the share of its
  wall time spent in tree operations.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from undertow.optimizers.tree import (
    BYTES_PER_NODE,
    FLAG_EXPANDED,
    Policy,
    TreeStore,
    refresh_parent_terms,
)
from undertow.optimizers.tree.backends import available_backends, get_backend

BATCHES = (1, 16, 256, 4096)
CAPACITIES = (10**3, 10**4, 10**5, 10**6)
BRANCHING = 8
MEMORY_CAP_BYTES = 2_500_000_000  # per store; larger cells are listed in `skipped`
NUMPY_CAP_NODES = 16_000_000  # the reference materialises [B, M] temporaries
#: bytes per allocated node scored: the kernels score every allocated node branch-free
#: (closed ones are masked afterwards), reading visits, value_sum, inflight and flags,
#: plus the cached parent term (UCT, 8) or prior and parent link (PUCT, 4 + 4); A*
#: reads g, h, inflight and flags.
SCORE_BYTES = {Policy.UCT: 21, Policy.PUCT: 21, Policy.ASTAR: 13}


def full_tree(backend: Any, batch: int, capacity: int, seed: int = 0,
              fill: float = 1.0) -> TreeStore:
    """B complete BRANCHING-ary trees (breadth-first layout) with random statistics."""
    M = capacity
    used = max(1, int(M * fill))
    rng = np.random.default_rng(seed)
    store = get_backend("numpy").new_store(batch, M, exploration=1.4, discount=0.9)
    n = np.arange(M, dtype=np.int64)
    parent = np.where(n > 0, (n - 1) // BRANCHING, -1)
    first = BRANCHING * n + 1
    count = np.clip(used - first, 0, BRANCHING)
    alive = n < used
    store.parent[:] = np.where(alive, parent, -1)
    store.first_child[:] = np.where(count > 0, first, -1)
    store.num_children[:] = count
    store.flags[:] = np.where(count > 0, FLAG_EXPANDED, 0)
    # level d of a complete tree starts at node (b^d - 1) / (b - 1)
    starts = [(BRANCHING**d - 1) // (BRANCHING - 1) for d in range(1, 40)]
    store.depth[:] = np.searchsorted(np.array(starts), n, side="right").astype(np.int32)
    store.num_nodes[:] = used
    for b in range(batch):  # per tree, to keep temporaries at [M]
        store.visits[b] = rng.integers(1, 100, M)
        store.value_sum[b] = rng.random(M, dtype=np.float32) * store.visits[b]
        store.prior[b] = rng.random(M, dtype=np.float32)
        store.g[b] = rng.random(M, dtype=np.float32)
        store.h[b] = rng.random(M, dtype=np.float32)
        store.reward[b] = rng.random(M, dtype=np.float32)
    refresh_parent_terms(store)  # visits were written directly
    return store if backend.name == "numpy" or backend.xp is np else backend.to_device(store)


# ---- baselines ---------------------------------------------------------------------
class CpuTriad:
    """A parallel STREAM triad ``a = b + s * c`` over float64 arrays far larger than the
    caches (24 bytes per element), run with Numba on all cores. The arrays stay
    allocated so the triad can be re-measured next to every grid cell: this shared
    machine's bandwidth drifts by tens of percent within a minute."""

    def __init__(self, n: int = 1 << 25) -> None:
        from numba import njit, prange

        @njit(parallel=True, cache=False)
        def triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float) -> None:
            for i in prange(a.shape[0]):
                a[i] = b[i] + s * c[i]

        self._triad = triad
        self._a, self._b, self._c = np.zeros(n), np.ones(n), np.full(n, 2.0)
        triad(self._a, self._b, self._c, 3.0)

    def gbs(self, repetitions: int = 3) -> float:
        """GB/s of the fastest of ``repetitions`` triads."""
        best = min(_timed(lambda: self._triad(self._a, self._b, self._c, 3.0))
                   for _ in range(repetitions))
        return 24 * self._a.size / best / 1e9


class GpuTriad:
    """The same triad as a CuPy elementwise kernel on the GPU."""

    def __init__(self, n: int = 1 << 27) -> None:
        import cupy as cp

        self._cp = cp
        self._triad = cp.ElementwiseKernel("float64 b, float64 c, float64 s", "float64 a",
                                           "a = b + s * c", "undertow_triad")
        self._a, self._b, self._c = cp.zeros(n), cp.ones(n), cp.full(n, 2.0)
        self._triad(self._b, self._c, 3.0, self._a)
        cp.cuda.Device().synchronize()

    def gbs(self, repetitions: int = 3) -> float:
        """GB/s of the fastest of ``repetitions`` triads."""
        sync = self._cp.cuda.Device().synchronize
        best = min(_timed(lambda: self._triad(self._b, self._c, 3.0, self._a), sync=sync)
                   for _ in range(repetitions))
        return 24 * self._a.size / best / 1e9


class _LeanNode:
    """A Python node as a careful programmer writes it: running sums, `math` calls."""

    __slots__ = ("children", "parent", "value", "visits")

    def __init__(self, parent: _LeanNode | None, visits: int, value: float) -> None:
        self.parent, self.children, self.visits, self.value = parent, [], visits, value

    def uct(self, c: float) -> float:
        if self.visits == 0:
            return math.inf
        parent_n = self.parent.visits if self.parent is not None else self.visits
        return self.value / self.visits + c * math.sqrt(math.log(max(parent_n, 1)) / self.visits)


class _PromptAgentNode:
    """A node as PromptAgent's MCTS keeps one: the list of cumulative rewards of every
    backup through it, Q as the NumPy mean of that list, UCT with NumPy scalar math."""

    __slots__ = ("children", "cum_rewards", "parent", "reward")

    def __init__(self, parent: _PromptAgentNode | None, visits: int, value: float) -> None:
        self.parent, self.children, self.reward = parent, [], value
        self.cum_rewards = [value] * visits  # visits backups; the mean is what matters

    def uct(self, c: float) -> float:
        q = np.mean(self.cum_rewards) if self.cum_rewards else self.reward
        n_parent = len(self.parent.cum_rewards) if self.parent is not None else 0
        return q + c * np.sqrt(np.log(n_parent + 1) / max(1, len(self.cum_rewards)))


def object_tree_nodes_per_s(num_nodes: int = 100_000, repetitions: int = 3,
                            node_type: type = _PromptAgentNode) -> float:
    """Nodes/s of scoring UCT node by node over a tree of Python node objects.

    The tree has the shape and visit counts of the store benchmark (BRANCHING-ary,
    visits uniform in 1..99); every leaf (the open frontier) is scored, the way a
    Python MCTS walks its children. ``node_type`` picks PromptAgent's node or the lean one.
    """
    rng = np.random.default_rng(0)
    visits, values = rng.integers(1, 100, num_nodes), rng.random(num_nodes)
    nodes = [node_type(None, int(visits[0]), float(values[0]))]
    for i in range(1, num_nodes):
        node = node_type(nodes[(i - 1) // BRANCHING], int(visits[i]), float(values[i]))
        node.parent.children.append(node)
        nodes.append(node)

    def scan() -> None:
        best, stack = -math.inf, [nodes[0]]
        while stack:
            node = stack.pop()
            if node.children:
                stack.extend(node.children)
            else:
                best = max(best, node.uct(1.4))

    return num_nodes / min(_timed(scan) for _ in range(repetitions))


def promptmcts_tree_share(iterations: int = 8, num_trees: int = 4) -> dict[str, Any]:
    """One PromptMCTS run on `boolean_expressions` with the simulator (llm=sim): the
    share of its wall time spent in tree-store operations (see `mcts_time_share`)."""
    from undertow.bench.tasks.reasoning import get_task, make_splits
    from undertow.optimizers.search import mcts_time_share

    task = get_task("boolean_expressions")
    splits = make_splits("boolean_expressions", 0, 30, 30, 60)
    return {"task": "boolean_expressions",
            **mcts_time_share(splits.train, splits.val, task.score, iterations=iterations,
                              num_trees=num_trees, paths=2)}


# ---- measurements ------------------------------------------------------------------
def _timed(fn: Callable[[], Any], sync: Callable[[], Any] | None = None) -> float:
    return _timed_result(fn, sync)[0]


def _timed_result(fn: Callable[[], Any], sync: Callable[[], Any] | None = None
                  ) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    if sync is not None:
        sync()
    return time.perf_counter() - t0, result


def _record(backend: str, op: str, policy: str, B: int, M: int, times: list[float],
            nodes: float, nbytes: float, bandwidth: float) -> dict[str, Any]:
    med = statistics.median(times)
    best = min(times)
    return {"backend": backend, "op": op, "policy": policy, "B": B, "M": M,
            "nodes_per_s": nodes / med, "eta": nbytes / med / (bandwidth * 1e9),
            "nodes_per_s_best": nodes / best, "eta_best": nbytes / best / (bandwidth * 1e9),
            "seconds_median": med, "seconds_min": best, "repetitions": len(times),
            "bandwidth_gbs": bandwidth}


def _bench_cell(be: Any, B: int, M: int, reps: int, triad: Any) -> list[dict[str, Any]]:
    """Every op on one B x M cell; the first call of each op is an untimed warm-up.

    Each timed `score` call follows a triad of its own, and its eta is taken against
    that triad (``eta`` is the median of these paired ratios, ``eta_best`` the
    largest): the machine's bandwidth moves too fast for one figure per run. The
    latency-bound ops use the median of the cell's triads.
    """
    sync = getattr(be, "synchronize", None)
    out: list[dict[str, Any]] = []
    store = full_tree(be, B, M)
    shape = full_tree(get_backend("numpy"), 1, M)  # every tree has this shape
    depth = int(shape.depth[0].max())
    cell_bw: list[float] = []
    for policy in Policy:
        for _ in range(2):
            be.score(store, policy, 1)
        times, bws = [], []
        for _ in range(reps):
            bws.append(triad.gbs(1))
            times.append(_timed(lambda p=policy: be.score(store, p, 1), sync))
        nbytes = B * M * SCORE_BYTES[policy]
        record = _record(be.name, "score", policy.name.lower(), B, M, times, B * M,
                         nbytes, statistics.median(bws))
        paired = [nbytes / t / (bw * 1e9) for t, bw in zip(times, bws, strict=True)]
        record.update(eta=statistics.median(paired), eta_best=max(paired),
                      bandwidth_gbs=statistics.median(bws))
        out.append(record)
        cell_bw.extend(bws)
    bandwidth = statistics.median(cell_bw)
    # descend 4 paths per tree, then back exactly those paths up (restores inflight)
    paths = 4
    d_times, b_times = [], []
    for rep in range(reps + 1):
        td, leaves = _timed_result(lambda: be.descend(store, Policy.UCT, paths), sync)
        values = be.xp.ones(leaves.shape)
        tb = _timed(lambda lv=leaves, v=values: be.backup(store, lv, v), sync)
        if rep:
            d_times.append(td)
            b_times.append(tb)
    scored = B * paths * depth * BRANCHING  # children scored on the way down
    path_nodes = B * paths * (depth + 1)
    # descend: 13 bytes per child scored (visits, inflight, value_sum, flags), 8 per
    # path node (first_child, num_children) + inflight written; backup: read+write
    # visits, value_sum, inflight and read reward, parent. Both then refresh the cached
    # parent term: 20 bytes read per path node (visits, inflight, first_child,
    # num_children, parent) and 8 written per child of one.
    out.append(_record(be.name, "descend", "uct", B, M, d_times, scored,
                       scored * 21 + path_nodes * 32, bandwidth))
    out.append(_record(be.name, "backup", "-", B, M, b_times, path_nodes,
                       path_nodes * 52 + scored * 8, bandwidth))
    del store
    store = full_tree(be, B, M, fill=0.5)
    used = int(be.to_host(store.num_nodes)[0])
    e_times = []
    for rep in range(reps + 1):
        leaves = be.xp.full(B, used - 1 - rep, dtype=be.xp.int32)  # distinct open leaves
        t = _timed(lambda lv=leaves: be.expand(store, lv, BRANCHING), sync)
        if rep:
            e_times.append(t)
    out.append(_record(be.name, "expand", "-", B, M, e_times, B * BRANCHING,
                       B * BRANCHING * BYTES_PER_NODE + B * 13, bandwidth))
    return out


def _warm_up(be: Any, calls: int = 8) -> None:
    """Compile/load every kernel and start the thread pool before anything is timed."""
    store = full_tree(be, 2, 200, fill=0.5)
    for i in range(calls):
        for policy in Policy:
            be.score(store, policy, 1)
        leaves = be.descend(store, Policy.UCT, 2)
        be.backup(store, leaves, be.xp.ones(leaves.shape))
        be.expand(store, be.xp.full(2, 99 - i, dtype=be.xp.int32), 2)


def _grid(quick: bool) -> list[tuple[int, int]]:
    if quick:
        return [(1, 10**3), (16, 10**4)]
    return [(B, M) for M in CAPACITIES for B in BATCHES]


def run(quick: bool = False, backends: list[str] | None = None) -> dict[str, Any]:
    """Measure every op over the B x M grid; `quick` runs two small cells in seconds."""
    names = backends or available_backends()
    unknown = [n for n in names if n not in ("numpy", "numba", "cupy")]
    if unknown:
        raise ValueError(f"unknown backends {unknown}; choose from numpy, numba, cupy")
    reps = 2 if quick else 5
    t0 = time.perf_counter()
    triads: dict[str, Any] = {"cpu": CpuTriad(1 << (22 if quick else 25))}
    if "cupy" in names:
        triads["gpu"] = GpuTriad(1 << (22 if quick else 27))
    seen: dict[str, list[float]] = {dev: [t.gbs(reps)] for dev, t in triads.items()}
    obj_nodes = 20_000 if quick else 100_000
    obj_rate = object_tree_nodes_per_s(obj_nodes, repetitions=reps)
    lean_rate = object_tree_nodes_per_s(obj_nodes, repetitions=reps, node_type=_LeanNode)
    results: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for name in names:
        be = get_backend(name)
        device = "gpu" if name == "cupy" else "cpu"
        _warm_up(be)
        for B, M in _grid(quick):
            need = B * M * BYTES_PER_NODE
            if need > MEMORY_CAP_BYTES:
                skipped.append({"backend": name, "B": B, "M": M, "reason":
                                f"store needs {need / 1e9:.1f} GB > cap "
                                f"{MEMORY_CAP_BYTES / 1e9:.1f} GB"})
            elif name == "numpy" and B * M > NUMPY_CAP_NODES:
                skipped.append({"backend": name, "B": B, "M": M, "reason":
                                f"reference backend capped at {NUMPY_CAP_NODES:.0e} nodes "
                                "(it materialises [B, M] float64 temporaries)"})
            else:
                cell = _bench_cell(be, B, M, reps, triads[device])
                seen[device].extend(r["bandwidth_gbs"] for r in cell if r["op"] == "score")
                results.extend(cell)
    bandwidth = {dev: statistics.median(v) for dev, v in seen.items()}
    target = [r for r in results if r["backend"] == "numba" and r["op"] == "score"
              and r["policy"] == "uct" and r["B"] * r["M"] >= 10**6]
    summary = {"numba_score_uct_BM_ge_1e6": {
        "cells": len(target),
        "eta_median_range": _span(r["eta"] for r in target),
        "eta_best_range": _span(r["eta_best"] for r in target),
        "speedup_vs_object_tree_range": _span(r["nodes_per_s"] / obj_rate for r in target),
        "speedup_best_vs_object_tree_range": _span(r["nodes_per_s_best"] / obj_rate
                                                   for r in target),
        "speedup_vs_lean_object_tree_range": _span(r["nodes_per_s"] / lean_rate
                                                   for r in target)}}
    mcts = promptmcts_tree_share(iterations=3 if quick else 8, num_trees=2 if quick else 4)
    return {"suite": "tree", "bandwidth_gbs": bandwidth["cpu"],
            "bandwidth_gbs_range": _span(seen["cpu"]), "bandwidth_gbs_by_device": bandwidth,
            "object_tree_nodes_per_s": obj_rate, "object_tree_lean_nodes_per_s": lean_rate,
            "repetitions": reps,
            "threads": _threads(), "load_avg_1m_at_end": _load(), "results": results, "skipped": skipped,
            "summary": summary, "promptmcts": mcts, "seconds": time.perf_counter() - t0}


def _span(values: Any) -> list[float] | None:
    vals = list(values)
    return [min(vals), max(vals)] if vals else None


def _load() -> float | None:
    """1-minute load average: other processes on the machine skew every timing."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _threads() -> int:
    try:
        import numba

        return int(numba.get_num_threads())
    except ImportError:
        return os.cpu_count() or 1
