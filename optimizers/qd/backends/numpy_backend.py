"""The reference batch insert: sort by (cell, -fitness, batch order), keep each cell's
first row, replace where strictly better. No Python loop over candidates."""

from __future__ import annotations

import numpy as np


def insert(fitness: np.ndarray, payload: np.ndarray, cells: np.ndarray, values: np.ndarray,
           ids: np.ndarray) -> np.ndarray:
    """See `optimizers.qd.backends` for the contract; returns `placed[n]` (bool)."""
    n = cells.shape[0]
    placed = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return placed
    order = np.lexsort((-values, cells))   # cell, then best first; stable, so ties keep batch order
    sorted_cells = cells[order]
    first = np.ones(n, dtype=np.bool_)
    first[1:] = sorted_cells[1:] != sorted_cells[:-1]
    best = order[first]                                     # one candidate per cell
    wins = values[best] > fitness[cells[best]]
    winners = best[wins]
    fitness[cells[winners]] = values[winners]
    payload[cells[winners]] = ids[winners]
    placed[winners] = True
    return placed
