"""A* / best-first on the tree store against networkx shortest paths."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.optimizers.search import best_first, best_first_batch


@st.composite
def weighted_graphs(draw: st.DrawFn) -> tuple[nx.DiGraph, int, int]:
    n = draw(st.integers(2, 12))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.integers(0, 20)), max_size=40))
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for u, v, w in edges:
        if u != v and (not g.has_edge(u, v) or g[u][v]["weight"] > w):
            g.add_edge(u, v, weight=w)
    return g, draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))


def _succ(g: nx.DiGraph):
    return lambda s: [(v, g[s][v]["weight"]) for v in g.successors(s)]


def _path_cost(g: nx.DiGraph, path: list[int]) -> float:
    return sum(g[u][v]["weight"] for u, v in itertools.pairwise(path))


@given(weighted_graphs())
def test_uniform_cost_matches_networkx(case: tuple[nx.DiGraph, int, int]) -> None:
    g, s, t = case
    res = best_first(s, _succ(g), lambda _: 0.0, lambda x: x == t, backend="numpy")
    if not nx.has_path(g, s, t):
        assert not res.found and res.reason == "exhausted"
        return
    want = nx.shortest_path_length(g, s, t, weight="weight")
    assert res.found and res.cost == want
    assert res.path[0] == s and res.path[-1] == t and _path_cost(g, res.path) == want


@given(weighted_graphs(), st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=12,
                                   max_size=12))
def test_admissible_heuristic_still_optimal(case: tuple[nx.DiGraph, int, int],
                                            fractions: list[float]) -> None:
    g, s, t = case
    # A random share of the exact distance to t per node: admissible, often inconsistent,
    # so a cheaper path to an already expanded state must reopen it.
    dist = nx.single_source_dijkstra_path_length(g.reverse(), t, weight="weight")
    h = {v: dist.get(v, 0) * fractions[v] for v in g}
    res = best_first(s, _succ(g), lambda x: h[x], lambda x: x == t, backend="numpy")
    assert res.found == nx.has_path(g, s, t)
    if res.found:
        assert res.cost == nx.shortest_path_length(g, s, t, weight="weight")
        assert _path_cost(g, res.path) == res.cost


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_batch_solves_each_problem_like_alone(backend: str) -> None:
    g = nx.grid_2d_graph(6, 6).to_directed()
    for i, (u, v) in enumerate(g.edges):
        g[u][v]["weight"] = 1 + (i * 7) % 5
    pairs = [((0, 0), (5, 5)), ((0, 5), (3, 1)), ((2, 2), (2, 2)), ((5, 0), (0, 4))]

    # A state carries its own goal, so one expand/heuristic/goal test serves the batch.
    def succ(state):
        pos, goal = state
        return [((v, goal), g[pos][v]["weight"]) for v in g.successors(pos)]

    def manhattan(state):
        (x, y), (gx, gy) = state
        return abs(x - gx) + abs(y - gy)

    def at_goal(state):
        return state[0] == state[1]

    batch = best_first_batch(pairs, succ, manhattan, at_goal, backend=backend)
    for (s, t), res in zip(pairs, batch):
        alone = best_first((s, t), succ, manhattan, at_goal, backend=backend)
        want = nx.shortest_path_length(g, s, t, weight="weight")
        assert res.found and res.cost == want == alone.cost
        assert res.path[0][0] == s and res.path[-1][0] == t
    assert batch[2].path == [((2, 2), (2, 2))] and batch[2].expansions == 0


def test_bad_costs_and_heuristics_are_named() -> None:
    with pytest.raises(ValueError, match="step cost"):
        best_first(0, lambda s: [(1, -1.0)], lambda s: 0.0, lambda s: s == 1)
    with pytest.raises(ValueError, match="heuristic"):
        best_first(0, lambda s: [(1, 1.0)], lambda s: math.nan, lambda s: s == 1)
    with pytest.raises(ValueError, match="starts is empty"):
        best_first_batch([], lambda s: [], lambda s: 0.0, lambda s: True)


def test_capacity_and_dead_ends_stop_cleanly() -> None:
    line = best_first(0, lambda s: [(s + 1, 1.0)], lambda s: 0.0, lambda s: s == 100,
                      capacity=10)
    assert not line.found and line.reason == "capacity"
    dead = best_first(0, lambda s: [], lambda s: 0.0, lambda s: s == 1)
    assert not dead.found and dead.reason == "exhausted" and dead.expansions == 1
