"""Best-first / A* search over any states (plan steps, tool calls), on the tree store.

``best_first_batch`` solves B problems at once, one tree per problem: each round pops
the open node of least ``f = g + h`` from every tree with one ``score(store, "astar")``
call, expands the popped nodes with the caller's ``expand_fn`` and allocates all their
children with one ``expand`` call. With an admissible heuristic (``h`` never above
the true cost to go) the first goal popped is a cheapest one: a state reached again
with a cost no lower than its best known one is dropped, and a cheaper path to a
state already queued prunes the dearer copy.

The store keeps ``g`` and ``h`` as float32 for ordering; the costs reported here are
summed in float64 on the host. Step costs that float32 holds exactly (integers, or
multiples of a power of two) order exactly; others may, on near-ties below float32
precision, pop a path dearer by at most that rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from undertow.optimizers.search.forest import FLAG_PRUNED, FLAG_TERMINAL, Forest
from undertow.optimizers.tree import TreeBackend

#: ``expand_fn(state) -> [(child_state, step_cost), ...]``; step costs must be >= 0.
ExpandFn = Callable[[Any], Iterable[tuple[Any, float]]]


@dataclass
class SearchResult:
    """The outcome for one problem.

    found: whether a goal was reached; path: the states from start to goal (empty if
    not found); cost: the path's total step cost (inf if not found); expansions:
    nodes expanded; reason: why the search stopped ("goal", "exhausted",
    "max_expansions", "capacity").
    """

    found: bool
    path: list[Any] = field(default_factory=list)
    cost: float = float("inf")
    expansions: int = 0
    reason: str = ""


@dataclass
class _Node:
    state: Any
    g: float


def best_first(start: Any, expand_fn: ExpandFn, h_fn: Callable[[Any], float],
               is_goal: Callable[[Any], bool], *, max_expansions: int = 10_000,
               capacity: int = 65_536, key: Callable[[Any], Hashable] | None = None,
               backend: str | TreeBackend | None = None) -> SearchResult:
    """A* from ``start``: the cheapest path to a state where ``is_goal`` holds.

    ``h_fn(state)`` estimates the cost to go (0 everywhere gives uniform-cost search);
    ``key(state)`` identifies states for duplicate detection (default: the state
    itself, which must then be hashable). See :func:`best_first_batch`.
    """
    return best_first_batch([start], expand_fn, h_fn, is_goal, max_expansions=max_expansions,
                            capacity=capacity, key=key, backend=backend)[0]


def best_first_batch(starts: Sequence[Any], expand_fn: ExpandFn,
                     h_fn: Callable[[Any], float], is_goal: Callable[[Any], bool], *,
                     max_expansions: int = 10_000, capacity: int = 65_536,
                     key: Callable[[Any], Hashable] | None = None,
                     backend: str | TreeBackend | None = None) -> list[SearchResult]:
    """A* for every start state at once, one tree per start (B = ``len(starts)``).

    ``max_expansions`` caps the nodes expanded per problem and ``capacity`` the nodes
    stored per problem; a problem that hits either stops with ``found=False`` and the
    reason.
    """
    if not starts:
        raise ValueError("starts is empty; pass at least one start state")
    if capacity < 2:
        raise ValueError(f"capacity must be >= 2 nodes per tree, got {capacity}")
    ident = key or (lambda s: s)
    B = len(starts)
    forest = Forest(B, capacity, backend=backend)
    best_g: list[dict[Hashable, tuple[float, int]]] = [{} for _ in range(B)]
    results: list[SearchResult | None] = [None] * B
    expansions = [0] * B
    h0 = np.array([[_heuristic(h_fn, s)] for s in starts], dtype=np.float32)
    with forest.timed():
        forest.store.h[:, :1] = forest.backend.xp.asarray(h0)
    for b, s in enumerate(starts):
        forest.payloads[b, 0] = _Node(s, 0.0)
        best_g[b][ident(s)] = (0.0, 0)
    while any(r is None for r in results):
        top = forest.score("astar", 1)
        pops = top.index[:, 0].astype(np.int64)
        slots = np.full(B, -1, dtype=np.int32)
        kids: list[list[tuple[Any, float, float]]] = [[] for _ in range(B)]
        for b in range(B):
            if results[b] is not None:
                continue
            node = int(pops[b])
            if node < 0:
                results[b] = SearchResult(False, expansions=expansions[b], reason="exhausted")
                continue
            info: _Node = forest.payloads[b, node]
            if is_goal(info.state):
                path = [forest.payloads[b, n].state for n in forest.path_to_root(b, node)]
                results[b] = SearchResult(True, path, info.g, expansions[b], "goal")
                continue
            if expansions[b] >= max_expansions:
                results[b] = SearchResult(False, expansions=expansions[b],
                                          reason="max_expansions")
                continue
            expansions[b] += 1
            slots[b] = node
            kids[b] = _children(info, expand_fn, h_fn, ident, best_g[b])
        if (slots < 0).all():
            continue
        width = max(1, max(len(k) for k in kids))
        ks = np.array([len(k) for k in kids], dtype=np.int32)
        cost = np.zeros((B, width), dtype=np.float32)
        hh = np.zeros((B, width), dtype=np.float32)
        for b, row in enumerate(kids):
            for j, (_, step, h) in enumerate(row):
                cost[b, j], hh[b, j] = step, h
        first = forest.expand(slots, ks, cost=cost, h=hh)
        for b in range(B):
            if slots[b] < 0:
                continue
            if not kids[b]:
                forest.mark(b, int(slots[b]), FLAG_TERMINAL)  # a dead end leaves the frontier
                continue
            if first[b] < 0:
                results[b] = SearchResult(False, expansions=expansions[b], reason="capacity")
                continue
            parent: _Node = forest.payloads[b, int(slots[b])]
            for j, (state, step, _) in enumerate(kids[b]):
                node = int(first[b]) + j
                forest.payloads[b, node] = _Node(state, parent.g + step)
                k = ident(state)
                old = best_g[b].get(k)
                if old is not None and old[1] >= 0:
                    forest.mark(b, old[1], FLAG_PRUNED)  # the dearer copy leaves the queue
                best_g[b][k] = (parent.g + step, node)
    return [r for r in results if r is not None]


def _heuristic(h_fn: Callable[[Any], float], state: Any) -> float:
    h = float(h_fn(state))
    if not np.isfinite(h) or h < 0:
        raise ValueError(f"h_fn returned {h!r} for {state!r}; a heuristic must be a finite "
                         "cost >= 0")
    return h


def _children(info: _Node, expand_fn: ExpandFn, h_fn: Callable[[Any], float],
              ident: Callable[[Any], Hashable], best: dict[Hashable, tuple[float, int]]
              ) -> list[tuple[Any, float, float]]:
    """The children worth queueing: those reaching their state cheaper than before."""
    out: list[tuple[Any, float, float]] = []
    seen: dict[Hashable, int] = {}
    for child, step in expand_fn(info.state):
        step = float(step)
        if not np.isfinite(step) or step < 0:
            raise ValueError(f"expand_fn gave step cost {step!r} to {child!r}; costs must be "
                             "finite and >= 0 (A* needs non-negative costs)")
        k = ident(child)
        old = best.get(k)
        if old is not None and old[0] <= info.g + step:
            continue
        if k in seen:  # two edges to one child: keep the cheaper
            if out[seen[k]][1] <= step:
                continue
            out[seen[k]] = (child, step, out[seen[k]][2])
            continue
        seen[k] = len(out)
        out.append((child, step, _heuristic(h_fn, child)))
    for child, step, _ in out:  # reserve: a later sibling round must beat this cost
        k = ident(child)
        old = best.get(k)
        best[k] = (info.g + step, old[1] if old else -1)
    return out
