"""The contract every tree backend meets, and the host-side checks they share.

A backend owns the kernels; this base class owns argument checking and shape
normalisation, so bad input gets the same clear error whatever runs underneath.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import numpy as np

from ..policies import Policy, as_policy
from ..store import TreeStore, new_store


class TopK(NamedTuple):
    """Per-tree best frontier nodes, best first (see the tie-break rule in policies).

    values: float64 [B, k] scores, ``-inf`` where a tree has fewer than k candidates.
    index:  int32   [B, k] node indices, ``-1`` where a tree has fewer than k.
    """

    values: Any
    index: Any


class TreeBackend(ABC):
    """Batched tree kernels over a :class:`TreeStore` living on this backend's device."""

    name: str = "abstract"
    xp: Any = np  # the array module of this backend's device arrays

    # ---- store -----------------------------------------------------------------
    def new_store(self, batch: int, capacity: int, **settings: Any) -> TreeStore:
        """An empty store on this backend's device (see :func:`store.new_store`)."""
        return new_store(batch, capacity, xp=self.xp, **settings)

    def to_device(self, store: TreeStore) -> TreeStore:
        """A copy of a host store on this device (identity for host backends)."""
        return store.map(self.xp.asarray)

    def to_host(self, array: Any) -> np.ndarray:
        """A NumPy copy of one of this backend's arrays."""
        return np.asarray(array)

    # ---- operations --------------------------------------------------------------
    def score(self, store: TreeStore, policy: Policy | str = Policy.UCT, k: int = 1) -> TopK:
        """Score the open frontier of every tree and return its top ``k`` (k=1: argmax)."""
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        return self._score(store, as_policy(policy), int(k))

    def descend(self, store: TreeStore, policy: Policy | str = Policy.UCT,
                num_paths: int = 1) -> Any:
        """Walk ``num_paths`` paths per tree from the root to a leaf, applying virtual loss.

        Each path picks, at every expanded node, the unpruned child of highest score
        and adds 1 to ``inflight`` of every node it passes (root and leaf included),
        so the next path of the same tree sees it as a loss and may go elsewhere.
        Returns the leaves, int32 ``[B, num_paths]``; paths stop at an unexpanded node
        or at one whose children are all pruned.
        """
        if not isinstance(num_paths, (int, np.integer)) or num_paths < 1:
            raise ValueError(f"num_paths must be a positive int, got {num_paths!r}")
        return self._descend(store, as_policy(policy), int(num_paths))

    def expand(self, store: TreeStore, leaves: Any, k: int | Any, *, reward: Any = None,
               prior: Any = None, cost: Any = None, h: Any = None) -> Any:
        """Allocate ``k`` contiguous children under each leaf (one or ``[B, P]`` per tree).

        ``leaves``: int ``[B]`` or ``[B, P]``, ``-1`` to skip a slot. ``k``: an int or
        an int array of the leaves' shape. Optional float arrays of shape
        ``leaves.shape + (K,)`` (K >= max k; extra columns ignored) give each child's ``reward``, ``prior``
        (default ``1/k``), step ``cost`` (the child's g is its parent's g plus it;
        default 0) and heuristic ``h`` (default 0). Slots of one tree are taken in
        order. Returns the first child per slot (leaves' shape, int32), or ``-1``
        where nothing was allocated: a skipped slot, ``k == 0``, a leaf not yet
        allocated or already expanded, or a tree without ``k`` free nodes.
        """
        xp = self.xp
        leaves_arr = xp.asarray(leaves)
        squeeze = leaves_arr.ndim == 1
        leaves2 = _as_2d("leaves", leaves_arr, store.batch_size, xp).astype(xp.int32)
        lo, hi = int(leaves2.min()), int(leaves2.max())
        if lo < -1 or hi >= store.capacity:
            raise ValueError(f"leaves must lie in [-1, M={store.capacity}), got values in "
                             f"[{lo}, {hi}]; pass node indices returned by descend/score")
        kk = xp.asarray(k)
        if kk.ndim == 0:
            kk = xp.full(leaves2.shape, int(kk), dtype=xp.int32)
        elif tuple(kk.shape) == tuple(leaves_arr.shape):
            kk = xp.ascontiguousarray(kk.reshape(leaves2.shape), dtype=xp.int32)
        else:
            raise ValueError(f"k must be an int or have the leaves' shape "
                             f"{tuple(leaves_arr.shape)}, got {tuple(kk.shape)}")
        if int(kk.min()) < 0:
            raise ValueError("k must be >= 0 children per leaf")
        K = max(int(kk.max()), 1)
        shape3 = leaves2.shape + (K,)
        default_prior = xp.broadcast_to(
            (1.0 / xp.maximum(kk, 1))[..., None].astype(xp.float32), shape3)
        arrays = [_child_array(name, a, shape3, squeeze, dflt, xp)
                  for name, a, dflt in (("reward", reward, None), ("prior", prior, default_prior),
                                        ("cost", cost, None), ("h", h, None))]
        first = self._expand(store, leaves2, kk, *arrays)
        return first[:, 0] if squeeze else first

    def backup(self, store: TreeStore, leaves: Any, values: Any, *,
               release_virtual_loss: bool = True) -> None:
        """Propagate ``values`` from each leaf to its root (reward-to-go with discount).

        At the leaf ``G = value``; every node on the way up gets ``visits += 1`` and
        ``value_sum += G`` (and ``inflight -= 1`` when ``release_virtual_loss``, undoing
        ``descend``), then ``G = reward[node] + discount * G`` for its parent. Several
        paths per tree (``[B, P]``) may share ancestors: no update is lost. ``-1``
        leaves are skipped.
        """
        xp = self.xp
        leaves_arr = xp.asarray(leaves)
        leaves2 = _as_2d("leaves", leaves_arr, store.batch_size, xp).astype(xp.int32)
        lo, hi = int(leaves2.min()), int(leaves2.max())
        if lo < -1 or hi >= store.capacity:
            raise ValueError(f"leaves must lie in [-1, M={store.capacity}), got values in "
                             f"[{lo}, {hi}]; pass the leaves returned by descend")
        vals = xp.asarray(values, dtype=xp.float64)
        if vals.shape != leaves_arr.shape:
            raise ValueError(f"values must have the leaves' shape {tuple(leaves_arr.shape)}, "
                             f"got {tuple(vals.shape)}")
        if not bool(xp.isfinite(vals).all()):
            raise ValueError("values must be finite (no NaN or inf); clip or drop them first")
        self._backup(store, leaves2, vals.reshape(leaves2.shape), bool(release_virtual_loss))

    # ---- kernels ---------------------------------------------------------------
    @abstractmethod
    def _score(self, store: TreeStore, policy: Policy, k: int) -> TopK: ...

    @abstractmethod
    def _descend(self, store: TreeStore, policy: Policy, num_paths: int) -> Any: ...

    @abstractmethod
    def _expand(self, store: TreeStore, leaves: Any, k: Any, reward: Any, prior: Any,
                cost: Any, h: Any) -> Any: ...

    @abstractmethod
    def _backup(self, store: TreeStore, leaves: Any, values: Any, release: bool) -> None: ...


def _as_2d(name: str, arr: Any, batch: int, xp: Any) -> Any:
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != batch:
        raise ValueError(f"{name} must have shape [B] or [B, P] with B={batch}, got "
                         f"{tuple(arr.shape)}")
    return xp.ascontiguousarray(arr)


def _child_array(name: str, value: Any, shape3: tuple[int, ...], squeeze: bool,
                 default: Any, xp: Any) -> Any:
    if value is None:
        out = default if default is not None else xp.zeros(shape3, dtype=xp.float32)
        return xp.ascontiguousarray(out, dtype=xp.float32)
    arr = xp.asarray(value, dtype=xp.float32)
    want = (shape3[0], shape3[2]) if squeeze else shape3
    if arr.shape[:-1] != want[:-1] or arr.ndim != len(want) or arr.shape[-1] < want[-1]:
        raise ValueError(f"{name} must have shape {want} (leaves' shape + (max k,); extra "
                         f"columns are ignored), got {tuple(arr.shape)}")
    arr = arr[..., : want[-1]]
    if not bool(xp.isfinite(arr).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return xp.ascontiguousarray(arr.reshape(shape3))
