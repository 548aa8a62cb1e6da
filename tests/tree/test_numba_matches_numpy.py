"""Numba kernels against the NumPy reference on random trees, for every op and policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.tree.treestore_cases import assert_same_store, clone, stores
from undertow.optimizers.tree import Policy, get_backend

REF = get_backend("numpy")
NB = get_backend("numba")
POLICIES = list(Policy)


@pytest.fixture(autouse=True, params=["threaded", "serial"])
def kernel_variant(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small test trees would run serially; force the threaded kernels too."""
    from undertow.optimizers.tree.backends import numba_backend

    if request.param == "threaded":
        monkeypatch.setattr(numba_backend, "PARALLEL_MIN_NODES", 0)
        monkeypatch.setattr(numba_backend, "PARALLEL_MIN_TREES", 0)
    return request.param


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@given(store=stores(), k=st.integers(1, 6))
def test_score_topk_matches(policy: Policy, store, k: int) -> None:
    want = REF.score(store, policy, k)
    got = NB.score(store, policy, k)
    np.testing.assert_array_equal(got.index, want.index)  # same nodes, same tie-break
    np.testing.assert_array_equal(got.values, want.values)  # same float64 operations


def test_score_chunked_merge_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trees split over several parallel chunks merge to the reference's top-k."""
    from tests.tree.treestore_cases import random_store
    from undertow.optimizers.tree.backends import numba_backend

    monkeypatch.setattr(numba_backend, "SCORE_CHUNK", 7)
    for seed in range(20):
        store = random_store(seed, 3, 90, ties=seed % 2 == 0)
        for policy in POLICIES:
            want, got = REF.score(store, policy, 5), NB.score(store, policy, 5)
            np.testing.assert_array_equal(got.index, want.index)
            np.testing.assert_array_equal(got.values, want.values)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@given(store=stores(), paths=st.integers(1, 4))
def test_descend_matches(policy: Policy, store, paths: int) -> None:
    a, b = clone(store), clone(store)
    want = REF.descend(a, policy, paths)
    got = NB.descend(b, policy, paths)
    np.testing.assert_array_equal(got, want)
    assert_same_store(a, b)  # virtual loss applied identically


@given(store=stores(), data=st.data())
def test_expand_matches(store, data: st.DataObject) -> None:
    B, M = store.visits.shape
    P = data.draw(st.integers(1, 3))
    leaves = np.array(data.draw(st.lists(st.integers(-1, M - 1), min_size=B * P,
                                         max_size=B * P))).reshape(B, P)
    k = np.array(data.draw(st.lists(st.integers(0, 5), min_size=B * P,
                                    max_size=B * P))).reshape(B, P)
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    extra = {name: rng.uniform(0, 1, (B, P, 5)).astype(np.float32)
             for name in ("reward", "prior", "cost", "h")}
    extra = {n: v[:, :, : max(int(k.max()), 1)] for n, v in extra.items()}
    a, b = clone(store), clone(store)
    want = REF.expand(a, leaves, k, **extra)
    got = NB.expand(b, leaves, k, **extra)
    np.testing.assert_array_equal(got, want)
    assert_same_store(a, b)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@given(store=stores(), paths=st.integers(1, 4), seed=st.integers(0, 1000))
def test_backup_after_descend_matches(policy: Policy, store, paths: int, seed: int) -> None:
    """Several paths per tree share ancestors; sums must agree with the sequential reference."""
    a, b = clone(store), clone(store)
    leaves = REF.descend(a, policy, paths)
    NB.descend(b, policy, paths)
    values = np.random.default_rng(seed).normal(0, 2, leaves.shape)
    REF.backup(a, leaves, values)
    NB.backup(b, leaves, values)
    assert_same_store(a, b)
    np.testing.assert_array_equal(a.inflight, store.inflight)  # virtual loss released
