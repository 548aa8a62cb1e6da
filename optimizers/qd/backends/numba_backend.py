"""The batch insert compiled with Numba: one pass in batch order (a later candidate
replaces only when strictly better, so ties keep the earliest, as the NumPy reference
does), then a pass in batch order that installs each cell's winner. Sequential on purpose: a batch is small
and cells collide, so a parallel loop would need atomics for no gain."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _insert(fitness, payload, cells, values, ids, placed):  # pragma: no cover - compiled
    n = cells.shape[0]
    best_at = np.full(fitness.shape[0], -1, dtype=np.int64)   # per cell: best of the batch
    for i in range(n):
        c = cells[i]
        j = best_at[c]
        if j < 0 or values[i] > values[j]:
            best_at[c] = i
    for i in range(n):
        c = cells[i]
        if best_at[c] == i and values[i] > fitness[c]:
            fitness[c] = values[i]
            payload[c] = ids[i]
            placed[i] = True

def insert(fitness: np.ndarray, payload: np.ndarray, cells: np.ndarray, values: np.ndarray,
           ids: np.ndarray) -> np.ndarray:
    """See `optimizers.qd.backends` for the contract; returns `placed[n]` (bool)."""
    placed = np.zeros(cells.shape[0], dtype=np.bool_)
    if cells.shape[0]:
        _insert(fitness, payload, cells.astype(np.int64), values.astype(np.float64),
                ids.astype(np.int64), placed)
    return placed
