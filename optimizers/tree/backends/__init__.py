"""Backend selection: by size, by availability, or by name.

``get_backend(nodes=B*M)`` picks NumPy for small forests (below `NUMBA_MIN_NODES`
nodes, where NumPy's per-call cost is lower than a compiled kernel's and nothing
needs compiling) and the fastest available backend above: CuPy when a GPU is usable,
else Numba. ``get_backend()`` without a size picks the fastest available one;
``get_backend("numpy")`` (or the ``UNDERTOW_TREE_BACKEND`` environment variable)
overrides both. CuPy counts as available only when it imports *and*
``cupy.is_available()`` finds a device.
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache

from .base import TopK, TreeBackend

NAMES = ("cupy", "numba", "numpy")
ENV_VAR = "UNDERTOW_TREE_BACKEND"
#: Forests with fewer nodes (B * M) than this run on NumPy when no backend is named.
#: Measured with `undertow perf crossover` (see docs/tree.md): below it NumPy's search
#: cycle is as fast or faster, and a first run pays no JIT compilation.
NUMBA_MIN_NODES = 1 << 17


def cupy_usable() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return bool(cupy.is_available())
    except Exception:  # noqa: BLE001 - any broken CUDA install must not break CPU users
        return False


def numba_usable() -> bool:
    """True when Numba imports."""
    return importlib.util.find_spec("numba") is not None


def available_backends() -> list[str]:
    """Names of the backends usable here, fastest first."""
    usable = {"cupy": cupy_usable, "numba": numba_usable, "numpy": lambda: True}
    return [name for name in NAMES if usable[name]()]


@cache
def _load(name: str) -> TreeBackend:
    if name == "numpy":
        from .numpy_backend import NumpyBackend

        return NumpyBackend()
    if name == "numba":
        from .numba_backend import NumbaBackend

        return NumbaBackend()
    from .cupy_backend import CupyBackend

    return CupyBackend()


def get_backend(name: str | None = None, *, nodes: int | None = None) -> TreeBackend:
    """The backend called ``name``; when ``name`` is None, NumPy for forests of fewer
    than `NUMBA_MIN_NODES` ``nodes`` and the best available backend otherwise."""
    name = name or os.environ.get(ENV_VAR) or None
    if name is None:
        if nodes is not None and nodes < NUMBA_MIN_NODES:
            return _load("numpy")
        return _load(available_backends()[0])
    key = name.strip().lower()
    if key not in NAMES:
        raise ValueError(f"unknown tree backend {name!r}; choose one of {list(NAMES)}")
    if key not in available_backends():
        why = ("CuPy is not installed or sees no GPU (pip install 'undertow[gpu]' on a "
               "CUDA machine)" if key == "cupy" else "Numba is not installed (pip install numba)")
        raise RuntimeError(f"tree backend {key!r} is not available here: {why}; "
                           f"available: {available_backends()}")
    return _load(key)


__all__ = ["NAMES", "NUMBA_MIN_NODES", "TopK", "TreeBackend", "available_backends", "cupy_usable", "get_backend"]
