"""Random tree batches for property tests: a hypothesis strategy over valid stores.

A case is built by real expansions on the NumPy reference (so the layout invariants
hold by construction) and then random statistics; `ties=True` draws small integers
so that equal scores, and hence the tie-break rule, are exercised often.
"""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import strategies as st
from undertow.optimizers.tree import (
    FLAG_PRUNED,
    FLAG_TERMINAL,
    TreeStore,
    get_backend,
    refresh_parent_terms,
)


def random_store(seed: int, batch: int, capacity: int, ties: bool) -> TreeStore:
    """A store of `batch` random trees grown to at most `capacity` nodes each."""
    rng = np.random.default_rng(seed)
    ref = get_backend("numpy")
    store = ref.new_store(batch, capacity,
                          exploration=rng.uniform(0.0, 3.0, batch).astype(np.float32),
                          discount=rng.uniform(0.5, 1.0, batch).astype(np.float32),
                          virtual_loss=rng.uniform(0.0, 2.0, batch).astype(np.float32))
    for _ in range(int(rng.integers(0, capacity))):
        open_leaf = np.array([rng.integers(0, n) for n in store.num_nodes])
        ref.expand(store, open_leaf, rng.integers(0, 5, batch),
                   cost=rng.uniform(0, 2, (batch, 4)).astype(np.float32))
    shape = store.visits.shape
    if ties:
        store.value_sum[:] = rng.integers(-3, 4, shape)
        store.prior[:] = rng.integers(0, 3, shape) / 2
        store.g[:] = rng.integers(0, 3, shape)
        store.h[:] = rng.integers(0, 3, shape)
    else:
        store.value_sum[:] = rng.normal(0, 3, shape)
        store.prior[:] = rng.uniform(0, 1, shape)
        store.g[:] = rng.uniform(0, 5, shape)
        store.h[:] = rng.uniform(0, 5, shape)
    store.visits[:] = rng.integers(0, 6, shape)
    store.inflight[:] = rng.integers(0, 3, shape) * (rng.random(shape) < 0.3)
    store.reward[:] = rng.integers(-1, 2, shape) if ties else rng.normal(0, 1, shape)
    store.flags |= np.where(rng.random(shape) < 0.1, FLAG_TERMINAL, 0).astype(np.uint8)
    store.flags |= np.where(rng.random(shape) < 0.1, FLAG_PRUNED, 0).astype(np.uint8)
    refresh_parent_terms(store)  # visits and inflight were written directly
    return store


@st.composite
def stores(draw: st.DrawFn, max_batch: int = 5, max_capacity: int = 80) -> TreeStore:
    """Hypothesis strategy: a random valid store (see `random_store`)."""
    return random_store(draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, max_batch)),
                        draw(st.integers(1, max_capacity)), draw(st.booleans()))


def clone(store: TreeStore) -> TreeStore:
    """An independent deep copy (host arrays)."""
    return copy.deepcopy(store)


def assert_same_store(a: TreeStore, b: TreeStore, rtol: float = 0.0) -> None:
    """Integer fields exactly equal; float fields equal within `rtol` (0: bit-exact)."""
    for name, x in a.arrays().items():
        y = np.asarray(getattr(b, name))
        if np.issubdtype(x.dtype, np.floating) and rtol:
            np.testing.assert_allclose(y, x, rtol=rtol, atol=rtol, err_msg=name)
        else:
            np.testing.assert_array_equal(y, x, err_msg=name)
