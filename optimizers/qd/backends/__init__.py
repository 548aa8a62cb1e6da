"""Batch-insert kernels of the MAP-Elites archive: a NumPy reference and a Numba kernel.

Both implement one function, `insert(fitness, payload, cells, values, ids) -> placed`,
with the same semantics (so they agree exactly; tests/qd checks it with hypothesis):

- `fitness[C]` (float64, `-inf` = empty cell) and `payload[C]` (int64, `-1` = empty) are
  the archive, changed in place;
- candidate `i` targets cell `cells[i]` with fitness `values[i]` and payload id `ids[i]`;
- per cell, the best candidate of the batch wins (ties: the earliest in the batch) and
  replaces the elite only if strictly better, so an insert never lowers a cell's fitness;
- `placed[i]` is True for the candidates that are elites after the call.

`get_backend()` picks Numba when it is installed, else NumPy; `get_backend("numpy")` or
the `UNDERTOW_QD_BACKEND` environment variable chooses one by name (as the tree store's
backends do, `optimizers/tree/backends`).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable

import numpy as np

NAMES = ("numba", "numpy")
ENV_VAR = "UNDERTOW_QD_BACKEND"
InsertFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def available_backends() -> list[str]:
    """Names of the backends usable here, fastest first."""
    return (["numba"] if importlib.util.find_spec("numba") is not None else []) + ["numpy"]


def get_backend(name: str | None = None) -> InsertFn:
    """The `insert` kernel called `name` (None: `$UNDERTOW_QD_BACKEND`, else the fastest)."""
    name = (name or os.environ.get(ENV_VAR) or available_backends()[0]).strip().lower()
    if name not in NAMES:
        raise ValueError(f"unknown QD archive backend {name!r}; choose one of {list(NAMES)}")
    if name not in available_backends():
        raise RuntimeError(f"QD archive backend {name!r} is not available here: Numba is not "
                           f"installed (pip install numba); available: {available_backends()}")
    if name == "numba":
        from .numba_backend import insert
    else:
        from .numpy_backend import insert
    return insert


__all__ = ["ENV_VAR", "NAMES", "available_backends", "get_backend"]
