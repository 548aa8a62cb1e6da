"""MAP-Elites archive: insert semantics, invariants, NumPy == Numba, state, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.optimizers.qd import Archive, available_backends, get_backend

needs_numba = pytest.mark.skipif("numba" not in available_backends(), reason="numba is not installed")

batches = st.lists(
    st.lists(st.tuples(st.integers(0, 11), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]) | st.floats(0, 1)),
             min_size=0, max_size=12),
    min_size=1, max_size=6)


def _run(backend: str, seq: list[list[tuple[int, float]]]) -> tuple[Archive, list[np.ndarray]]:
    a = Archive((3, 4), backend=backend)
    placed, next_id = [], 0
    for batch in seq:
        cells = [c for c, _ in batch]
        values = [v for _, v in batch]
        ids = list(range(next_id, next_id + len(batch)))
        next_id += len(batch)
        placed.append(a.insert(cells, values, ids))
    return a, placed


@given(batches)
@settings(max_examples=60, deadline=None)
def test_numpy_reference_semantics(seq):
    a = Archive((3, 4), backend="numpy")
    best: dict[int, tuple[float, int]] = {}
    next_id = 0
    for batch in seq:
        before_f, before_q = a.fitness.copy(), a.qd_score()
        placed = a.insert([c for c, _ in batch], [v for _, v in batch],
                          list(range(next_id, next_id + len(batch))))
        for j, (c, v) in enumerate(batch):       # the naive rule: strictly better replaces, ties keep the first
            if c not in best or v > best[c][0]:
                best[c] = (v, next_id + j)
        next_id += len(batch)
        assert (a.fitness >= before_f).all()      # an insert never lowers a cell's fitness
        assert a.qd_score() >= before_q           # so QD-score is monotone
        assert placed.sum() <= len({c for c, _ in batch})
        for j in np.flatnonzero(placed):
            assert a.payload[batch[j][0]] == next_id - len(batch) + j
    for c, (v, i) in best.items():
        assert a.fitness[c] == v and a.payload[c] == i
    assert a.coverage() == len(best) / 12
    assert a.qd_score() == pytest.approx(sum(v for v, _ in best.values()))


@needs_numba
@given(batches)
@settings(max_examples=60, deadline=None)
def test_numba_matches_numpy_exactly(seq):
    a, pa = _run("numpy", seq)
    b, pb = _run("numba", seq)
    assert np.array_equal(a.fitness, b.fitness) and np.array_equal(a.payload, b.payload)
    assert all(np.array_equal(x, y) for x, y in zip(pa, pb))


def test_state_round_trip_and_measures():
    a = Archive((2, 3), offset=-1.0, top=1.0)
    a.insert([0, 5, 5], [0.5, -0.5, 0.25], [0, 1, 2])
    assert a.coverage() == pytest.approx(2 / 6)
    assert a.qd_score() == pytest.approx(1.5 + 1.25)
    assert a.qd_score_normalised() == pytest.approx(2.75 / (6 * 2))
    b = Archive((2, 3), offset=-1.0, top=1.0)
    b.load_state_dict(a.state_dict())
    assert np.array_equal(a.fitness, b.fitness) and np.array_equal(a.payload, b.payload)
    assert np.isnan(a.grid()[0, 1]) and a.grid()[1, 2] == 0.25
    assert a.cell_index([[1, 2]]).tolist() == [5] and a.cell_coords([5]).tolist() == [[1, 2]]


@pytest.mark.parametrize(("call", "message"), [
    (lambda a: a.insert([0], [float("nan")], [0]), "finite"),
    (lambda a: a.insert([99], [0.5], [0]), "out of range"),
    (lambda a: a.insert([0, 1], [0.5], [0, 1]), "one length"),
    (lambda a: a.insert([0], [2.0], [0]), "offset, top"),
    (lambda a: a.cell_index([0, 7]), "out of range for axis 1"),
    (lambda a: a.load_state_dict({"shape": [9], "cells": [], "fitness": [], "payload": []}), "same axes"),
])
def test_bad_input_names_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call(Archive((2, 3)))


def test_backend_by_name_and_errors(monkeypatch):
    assert get_backend("numpy").__module__.endswith("numpy_backend")
    with pytest.raises(ValueError, match="choose one of"):
        get_backend("tpu")
    monkeypatch.setenv("UNDERTOW_QD_BACKEND", "numpy")
    assert get_backend().__module__.endswith("numpy_backend")
    with pytest.raises(ValueError, match="bin counts"):
        Archive(())
