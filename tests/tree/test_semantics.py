"""What the ops mean, checked on the real kernels against independent scalar code."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.tree.treestore_cases import clone, stores
from undertow.optimizers.tree import (
    FLAG_EXPANDED,
    Policy,
    TreeStore,
    get_backend,
    refresh_parent_terms,
)

BACKENDS = ["numpy", "numba"]


def backend_named(name: str):
    """A backend by name; "cuda-shim" is the CUDA source compiled for CPU by g++."""
    if name == "cuda-shim":
        from tests.tree.cuda_emulation import shim_backend

        if shutil.which("g++") is None:
            pytest.skip("g++ not found: apt-get install g++ to run the CUDA source on CPU")
        return shim_backend()
    return get_backend(name)


def check_layout(store: TreeStore) -> None:
    """Structural invariants every op must keep."""
    for b in range(store.batch_size):
        used = int(store.num_nodes[b])
        assert store.parent[b, 0] == -1 and store.depth[b, 0] == 0
        covered = np.zeros(used, dtype=int)
        covered[0] = 1
        for n in range(used):
            nc, fc = int(store.num_children[b, n]), int(store.first_child[b, n])
            if nc == 0:
                continue
            assert store.flags[b, n] & FLAG_EXPANDED
            assert n < fc and fc + nc <= used, "children follow their parent, contiguous"
            kids = slice(fc, fc + nc)
            assert (store.parent[b, kids] == n).all()
            assert (store.depth[b, kids] == store.depth[b, n] + 1).all()
            covered[kids] += 1
        assert (covered == 1).all(), "every allocated node is exactly one node's child or root"
        # the cached UCT parent term agrees with the counts it caches
        p = [int(store.parent[b, n]) if store.parent[b, n] >= 0 else n for n in range(used)]
        want = [math.sqrt(math.log(max(int(store.visits[b, q]) + int(store.inflight[b, q]), 1)))
                for q in p]
        np.testing.assert_allclose(store.parent_sqrt_log[b, :used], want, rtol=1e-14)


ops = st.lists(st.tuples(st.sampled_from(["expand", "descend_backup", "descend"]),
                         st.integers(1, 4), st.integers(0, 2**31)), max_size=12)


@pytest.mark.parametrize("backend", [*BACKENDS, "cuda-shim"])
@given(store=stores(max_batch=3, max_capacity=60), program=ops,
       policy=st.sampled_from(list(Policy)))
def test_random_programs_keep_the_layout_and_release_virtual_loss(backend: str, store, program,
                                                                  policy: Policy) -> None:
    be = backend_named(backend)
    store = clone(store)
    store.inflight[:] = 0
    refresh_parent_terms(store)
    outstanding = []
    visits0 = store.visits[:, 0].copy()
    backups = np.zeros(store.batch_size, dtype=int)
    for op, n, seed in program:
        rng = np.random.default_rng(seed)
        if op == "expand":
            leaves = np.array([rng.integers(0, u) for u in store.num_nodes], dtype=np.int32)
            be.expand(store, leaves, n)
        else:
            leaves = be.descend(store, policy, n)
            if op == "descend":
                outstanding.append(leaves)
            else:
                be.backup(store, leaves, rng.normal(size=leaves.shape))
                backups += n
        check_layout(store)
    for leaves in outstanding:
        be.backup(store, leaves, np.zeros(leaves.shape))
        backups += leaves.shape[1]
    assert (store.inflight == 0).all()
    np.testing.assert_array_equal(store.visits[:, 0], visits0 + backups)


@pytest.mark.parametrize("backend", BACKENDS)
@given(store=stores(max_batch=3), paths=st.integers(1, 3), seed=st.integers(0, 1000))
def test_backup_is_discounted_reward_to_go(backend: str, store, paths: int, seed: int) -> None:
    """Against a plain Python walk up the parent pointers."""
    be = get_backend(backend)
    after = clone(store)
    leaves = be.descend(after, Policy.UCT, paths)
    before = clone(after)
    values = np.random.default_rng(seed).normal(size=leaves.shape)
    be.backup(after, leaves, values)
    want = before.value_sum.astype(np.float64)
    for b in range(store.batch_size):
        for p in range(paths):
            node, ret = int(leaves[b, p]), float(values[b, p])
            while node >= 0:
                want[b, node] += ret
                ret = float(before.reward[b, node]) + float(before.discount[b]) * ret
                node = int(before.parent[b, node])
    np.testing.assert_allclose(after.value_sum, want, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(after.inflight, store.inflight)


def _python_uct(store: TreeStore, b: int, n: int) -> float:
    """UCT written the textbook way, node by node (PromptAgent style)."""
    inflight = int(store.inflight[b, n])
    cnt = int(store.visits[b, n]) + inflight
    if cnt == 0:
        return math.inf
    p = int(store.parent[b, n])
    p = n if p < 0 else p
    cnt_p = max(int(store.visits[b, p]) + int(store.inflight[b, p]), 1)
    w = float(store.value_sum[b, n]) - float(store.virtual_loss[b]) * inflight
    return w / cnt + float(store.exploration[b]) * math.sqrt(math.log(cnt_p) / cnt)


@pytest.mark.parametrize("backend", BACKENDS)
@given(store=stores())
def test_uct_argmax_is_the_textbook_best_open_leaf(backend: str, store) -> None:
    top = get_backend(backend).score(store, Policy.UCT, 1)
    for b in range(store.batch_size):
        open_nodes = [n for n in range(int(store.num_nodes[b])) if store.flags[b, n] & 7 == 0]
        if not open_nodes:
            assert top.index[b, 0] == -1
            continue
        scores = [_python_uct(store, b, n) for n in open_nodes]
        best = max(scores)
        assert top.index[b, 0] in open_nodes
        got = _python_uct(store, b, int(top.index[b, 0]))
        assert got == best or math.isclose(got, best, rel_tol=1e-9)
        if math.isinf(best):  # exact ties at +inf: the lowest index wins
            assert top.index[b, 0] == open_nodes[scores.index(best)]


@pytest.mark.parametrize("backend", BACKENDS)
@given(k=st.integers(1, 6), paths=st.integers(1, 6))
def test_virtual_loss_spreads_concurrent_paths(backend: str, k: int, paths: int) -> None:
    be = get_backend(backend)
    store = be.new_store(2, 50)
    be.expand(store, [0, 0], k)
    leaves = be.descend(store, Policy.UCT, paths)
    for b in range(2):  # unvisited children first, each once, lowest index first
        assert list(leaves[b, : min(k, paths)]) == list(range(1, 1 + min(k, paths)))
    assert (store.inflight[:, 0] == paths).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_expand_refuses_when_full_or_already_expanded(backend: str) -> None:
    be = get_backend(backend)
    store = be.new_store(2, 4)
    np.testing.assert_array_equal(be.expand(store, [0, 0], [3, 4]), [1, -1])  # 1+4 > 4
    np.testing.assert_array_equal(be.expand(store, [0, 0], [1, 2]), [-1, 1])  # 0 expanded
    np.testing.assert_array_equal(store.num_nodes, [4, 3])
    np.testing.assert_array_equal(be.expand(store, [-1, 5 - 3], 1), [-1, 3])


@pytest.mark.parametrize("backend", BACKENDS)
def test_astar_pops_lowest_f_and_skips_in_flight(backend: str) -> None:
    be = get_backend(backend)
    store = be.new_store(1, 10)
    be.expand(store, [0], 3, cost=[[2.0, 1.0, 1.0]], h=[[0.0, 1.0, 0.5]])
    top = be.score(store, "astar", k=4)  # f = g + h = 2, 2, 1.5; the root is expanded
    np.testing.assert_array_equal(top.index, [[3, 1, 2, -1]])  # tie 1 vs 2: lower index
    np.testing.assert_array_equal(top.values, [[-1.5, -2.0, -2.0, -np.inf]])
    store.inflight[0, 3] = 1
    assert be.score(store, "astar").index[0, 0] == 1  # node 3 in flight: next best


@pytest.mark.parametrize("backend", [*BACKENDS, "cuda-shim"])
@given(store=stores(max_batch=3, max_capacity=60), paths=st.integers(1, 3))
def test_backup_without_release_keeps_the_cached_parent_terms(backend: str, store,
                                                               paths: int) -> None:
    """Backup that keeps virtual loss changes counts: the cache must follow."""
    be = backend_named(backend)
    store = clone(store)
    leaves = be.descend(store, Policy.UCT, paths)
    be.backup(store, leaves, np.ones(leaves.shape), release_virtual_loss=False)
    check_layout(store)
