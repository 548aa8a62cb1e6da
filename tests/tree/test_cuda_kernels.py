"""The CUDA kernels against the NumPy reference.

Without a GPU, the same CUDA C source is compiled by g++ with a small shim that
emulates the grid (threads run in turn) and driven by the CuPy backend's own host
code; with a GPU, CuPy runs it for real. Integer fields and chosen nodes must match
exactly; float sums within a tolerance, since GPU atomics add in any order.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.tree.treestore_cases import assert_same_store, clone, random_store, stores
from undertow.optimizers.tree import Policy, get_backend
from undertow.optimizers.tree.backends import cupy_usable

REF = get_backend("numpy")
POLICIES = list(Policy)


def _shim():
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed: the CPU check of the CUDA source needs it")
    from tests.tree.cuda_emulation import shim_backend

    return shim_backend()


def _gpu():
    if not cupy_usable():
        pytest.skip("no usable GPU: CuPy is not installed or cupy.is_available() is False")
    return get_backend("cupy")


def _to_device(be, store):
    return be.to_device(clone(store))


def _host(be, store):
    return store.map(be.to_host)


def _check_all_ops(be, store, policy: Policy, k: int, paths: int, seed: int) -> None:
    want = REF.score(store, policy, k)
    dev = _to_device(be, store)
    got = be.score(dev, policy, k)
    np.testing.assert_array_equal(be.to_host(got.index), want.index)
    np.testing.assert_allclose(be.to_host(got.values), want.values, rtol=1e-12)

    ref = clone(store)
    want_leaves = REF.descend(ref, policy, paths)
    got_leaves = be.descend(dev, policy, paths)
    np.testing.assert_array_equal(be.to_host(got_leaves), want_leaves)
    assert_same_store(ref, _host(be, dev))

    values = np.random.default_rng(seed).normal(0, 2, want_leaves.shape)
    REF.backup(ref, want_leaves, values)
    be.backup(dev, got_leaves, be.xp.asarray(values))
    assert_same_store(ref, _host(be, dev), rtol=1e-5)

    B = store.batch_size
    leaves = np.random.default_rng(seed).integers(-1, store.capacity, (B, 2)).astype(np.int32)
    cost = np.random.default_rng(seed + 1).uniform(0, 1, (B, 2, 3)).astype(np.float32)
    want_first = REF.expand(ref, leaves, 3, cost=cost)
    got_first = be.expand(dev, be.xp.asarray(leaves), 3, cost=be.xp.asarray(cost))
    np.testing.assert_array_equal(be.to_host(got_first), want_first)
    assert_same_store(ref, _host(be, dev), rtol=1e-5)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@settings(max_examples=25)
@given(store=stores(max_batch=3, max_capacity=60), k=st.integers(1, 4),
       paths=st.integers(1, 3), seed=st.integers(0, 1000))
def test_cuda_source_matches_numpy_on_cpu(policy: Policy, store, k: int, paths: int,
                                          seed: int) -> None:
    _check_all_ops(_shim(), store, policy, k, paths, seed)


def test_cuda_merge_passes_on_large_trees() -> None:
    """Trees wide enough for several score threads and a multi-pass top-k merge."""
    be = _shim()
    for seed in range(2):
        store = random_store(seed, 1, 20_000, ties=True)
        for policy in POLICIES:
            want, got = REF.score(store, policy, 5), be.score(_to_device(be, store), policy, 5)
            np.testing.assert_array_equal(got.index, want.index)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_cupy_on_gpu_matches_numpy(policy: Policy) -> None:
    be = _gpu()
    for seed in range(10):
        store = random_store(seed, 4, 500, ties=seed % 2 == 0)
        _check_all_ops(be, store, policy, 3, 4, seed)
