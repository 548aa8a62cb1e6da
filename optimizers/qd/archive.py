"""The MAP-Elites archive: one elite per cell of a grid of bins on K diversity axes.

Layout (struct of arrays, as the tree store's): with `shape = (b_1, ..., b_K)` bins per
axis and `C = prod(shape)` cells,

- `fitness: float64[C]` the elite's fitness, `-inf` where the cell is empty;
- `payload: int64[C]`   the elite's id (an index into the caller's candidate list), `-1` empty.

Cells are flat indices (`cell_index` / `cell_coords` convert). `insert` takes a batch of
(cell, fitness, id) arrays and keeps the best per cell through a vectorized backend
(`optimizers.qd.backends`). The two QD measures:

- `coverage = filled / C`;
- `qd_score = sum over filled cells of (fitness - offset)`, with `offset` the lowest
  fitness the task can give (so every elite counts >= 0 and filling a cell never lowers
  the score: QD-score is monotone under `insert`). `qd_score_normalised` divides by
  `C * (top - offset)`, so it lies in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .backends import get_backend


class Archive:
    """A MAP-Elites grid. `offset` and `top`: the lowest and highest fitness possible."""

    def __init__(self, shape: Sequence[int], *, offset: float = 0.0, top: float = 1.0,
                 backend: str | None = None) -> None:
        shape = tuple(int(s) for s in shape)
        if not shape or any(s < 1 for s in shape):
            raise ValueError(f"archive shape must be a non-empty list of bin counts >= 1, got {shape}")
        if not (math.isfinite(offset) and math.isfinite(top) and top > offset):
            raise ValueError(f"archive needs finite offset < top, got offset={offset}, top={top}")
        self.shape = shape
        self.offset, self.top = float(offset), float(top)
        self.backend_name = backend
        self._insert = get_backend(backend)
        size = int(np.prod(shape))
        self.fitness = np.full(size, -np.inf, dtype=np.float64)
        self.payload = np.full(size, -1, dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of cells C."""
        return int(self.fitness.shape[0])

    def cell_index(self, coords: Sequence[int] | np.ndarray) -> np.ndarray:
        """Flat cell indices of bin coordinates `[n, K]` (or one `[K]` row)."""
        arr = np.asarray(coords, dtype=np.int64)
        arr2 = arr.reshape(-1, len(self.shape))
        for k, s in enumerate(self.shape):
            bad = (arr2[:, k] < 0) | (arr2[:, k] >= s)
            if bad.any():
                raise ValueError(f"bin {int(arr2[bad, k][0])} is out of range for axis {k} "
                                 f"(it has {s} bins: 0..{s - 1})")
        flat = np.ravel_multi_index(tuple(arr2.T), self.shape)
        return np.asarray(flat, dtype=np.int64)

    def cell_coords(self, cells: np.ndarray | Sequence[int]) -> np.ndarray:
        """Bin coordinates `[n, K]` of flat cell indices `[n]`."""
        return np.stack(np.unravel_index(np.asarray(cells, dtype=np.int64), self.shape), axis=-1)

    def insert(self, cells: Sequence[int] | np.ndarray, values: Sequence[float] | np.ndarray,
               ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Insert a batch; return `placed[n]` (True where the candidate is now its cell's elite)."""
        c = np.asarray(cells, dtype=np.int64).reshape(-1)
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        i = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not (c.shape == v.shape == i.shape):
            raise ValueError(f"insert needs cells, values and ids of one length, got "
                             f"{c.shape[0]}, {v.shape[0]}, {i.shape[0]}")
        if c.size and (c.min() < 0 or c.max() >= self.size):
            raise ValueError(f"cell index out of range 0..{self.size - 1}: {int(c.min())}..{int(c.max())}")
        if not np.isfinite(v).all():
            raise ValueError("insert needs finite fitness values (a NaN or inf fitness cannot be "
                             "compared); score failed candidates with the task's lowest fitness")
        if ((v < self.offset) | (v > self.top)).any():
            raise ValueError(f"fitness must lie in [offset, top] = [{self.offset}, {self.top}], "
                             f"got {float(v.min())}..{float(v.max())}")
        return self._insert(self.fitness, self.payload, c, v, i)

    # -- measures ----------------------------------------------------------------------
    @property
    def filled(self) -> np.ndarray:
        """Flat indices of the filled cells."""
        return np.flatnonzero(self.payload >= 0)

    def coverage(self) -> float:
        """Filled cells / all cells."""
        return float((self.payload >= 0).sum()) / self.size

    def qd_score(self) -> float:
        """Sum of (elite fitness - offset) over filled cells (`math.fsum`, so the order of cells
        cannot make a larger archive score lower by a rounding)."""
        f = self.fitness[self.payload >= 0]
        return math.fsum((f - self.offset).tolist())   # exactly rounded: monotone under insert

    def qd_score_normalised(self) -> float:
        """`qd_score / (C * (top - offset))`, in [0, 1]."""
        return self.qd_score() / (self.size * (self.top - self.offset))

    def grid(self) -> np.ndarray:
        """Elite fitness as an array of `shape` (NaN where empty), for heatmaps."""
        g = np.where(self.payload >= 0, self.fitness, np.nan)
        return g.reshape(self.shape)

    # -- state -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The filled cells as JSON data."""
        cells = self.filled
        return {"shape": list(self.shape), "offset": self.offset, "top": self.top,
                "cells": cells.tolist(), "fitness": self.fitness[cells].tolist(),
                "payload": self.payload[cells].tolist()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()` (the shape must match)."""
        if tuple(state["shape"]) != self.shape:
            raise ValueError(f"archive state has shape {tuple(state['shape'])}, this archive "
                             f"{self.shape}; build the archive with the same axes")
        self.fitness[:] = -np.inf
        self.payload[:] = -1
        cells = np.asarray(state["cells"], dtype=np.int64)
        self.fitness[cells] = np.asarray(state["fitness"], dtype=np.float64)
        self.payload[cells] = np.asarray(state["payload"], dtype=np.int64)
