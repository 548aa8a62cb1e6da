"""The struct-of-arrays store for a batch of B search trees of capacity M nodes each.

Every per-node field is one array of shape ``[B, M]`` and every per-tree setting one
vector of shape ``[B]``, so each operation (score, descend, expand, backup) is one
kernel over the whole batch instead of a Python loop over node objects. The arrays
live on the backend's device (NumPy/Numba: host memory, CuPy: GPU memory); what an
optimizer attaches to a node (prompt text, trace, cost) lives on the host in a
:class:`~undertow.optimizers.tree.payloads.PayloadTable` keyed by ``(tree, node)``.

Layout rules the kernels rely on:

* node 0 of every tree is its root; ``num_nodes[b]`` is the allocation cursor, so
  nodes ``0 .. num_nodes[b]-1`` are allocated and the rest are free;
* the children of a node are allocated contiguously: ``first_child[b, n] ..
  first_child[b, n] + num_children[b, n] - 1``, always after their parent;
* ``reward[b, n]`` is the immediate reward received on entering ``n``; backup
  propagates ``G_parent = reward[child] + discount * G_child`` (reward-to-go);
* ``parent_sqrt_log[b, n]`` caches ``sqrt(log(max(n_p, 1)))`` of the parent's count
  ``n_p = visits + inflight`` (the node's own for a root), UCT's parent term without
  the constant. ``descend``, ``backup`` and ``expand`` keep it current, so ``score``
  streams it instead of gathering every parent's counts; after writing ``visits``,
  ``inflight`` or ``parent`` by hand, call :func:`refresh_parent_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

#: ``flags`` bits. A node is on the *open frontier* when none of these bits is set.
FLAG_EXPANDED = np.uint8(1)
FLAG_TERMINAL = np.uint8(2)
FLAG_PRUNED = np.uint8(4)
CLOSED_MASK = np.uint8(FLAG_EXPANDED | FLAG_TERMINAL | FLAG_PRUNED)

NO_NODE = -1  #: parent of a root, first child of a leaf, "no result" in outputs.
ROOT = 0

#: dtype of each ``[B, M]`` field, in the order of the dataclass.
NODE_DTYPES: dict[str, Any] = {
    "visits": np.int32,
    "value_sum": np.float32,
    "reward": np.float32,
    "prior": np.float32,
    "g": np.float32,
    "h": np.float32,
    "inflight": np.int32,
    "flags": np.uint8,
    "parent": np.int32,
    "first_child": np.int32,
    "num_children": np.int32,
    "depth": np.int32,
    "parent_sqrt_log": np.float64,
}
#: dtype of each ``[B]`` field.
TREE_DTYPES: dict[str, Any] = {
    "num_nodes": np.int32,
    "exploration": np.float32,
    "discount": np.float32,
    "virtual_loss": np.float32,
}
BYTES_PER_NODE = sum(np.dtype(t).itemsize for t in NODE_DTYPES.values())


@dataclass
class TreeStore:
    """A batch of B trees with capacity M nodes each (B = batch, M = max nodes).

    Per node, shape ``[B, M]``:
        visits:       int32   completed backups through the node (N).
        value_sum:    float32 sum of backed-up returns (W); Q = W / N.
        reward:       float32 immediate reward on entering the node.
        prior:        float32 policy prior P (PUCT).
        g:            float32 cost so far (A*).
        h:            float32 heuristic cost to go (A*); A* scores -(g + h).
        inflight:     int32   descents not yet backed up (virtual loss count).
        flags:        uint8   FLAG_EXPANDED | FLAG_TERMINAL | FLAG_PRUNED bits.
        parent:       int32   parent index, NO_NODE (-1) for the root.
        first_child:  int32   index of the first child, NO_NODE if unexpanded.
        num_children: int32   number of (contiguous) children.
        depth:        int32   0 at the root.
        parent_sqrt_log: float64 sqrt(log(max(n_p, 1))) of the parent's count (own
                      count for a root); kept by descend/backup/expand.
    Per tree, shape ``[B]``:
        num_nodes:    int32   allocation cursor (allocated nodes are 0..num_nodes-1).
        exploration:  float32 UCT / PUCT exploration constant c.
        discount:     float32 discount gamma of the reward-to-go.
        virtual_loss: float32 value subtracted per in-flight descent.
    """

    visits: Any
    value_sum: Any
    reward: Any
    prior: Any
    g: Any
    h: Any
    inflight: Any
    flags: Any
    parent: Any
    first_child: Any
    num_children: Any
    depth: Any
    parent_sqrt_log: Any
    num_nodes: Any
    exploration: Any
    discount: Any
    virtual_loss: Any

    @property
    def batch_size(self) -> int:
        """B, the number of trees."""
        return int(self.visits.shape[0])

    @property
    def capacity(self) -> int:
        """M, the node capacity of each tree."""
        return int(self.visits.shape[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by all arrays."""
        return sum(int(getattr(self, f.name).nbytes) for f in fields(self))

    def arrays(self) -> dict[str, Any]:
        """Every field by name (the arrays themselves, not copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def map(self, fn: Any) -> TreeStore:
        """A new store whose every array is ``fn(array)`` (e.g. a device transfer)."""
        return TreeStore(**{k: fn(v) for k, v in self.arrays().items()})


def _as_tree_vector(name: str, value: float | Any, batch: int, dtype: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(batch, arr, dtype=dtype)
    if arr.shape != (batch,):
        raise ValueError(f"{name} must be a scalar or have shape [B]=({batch},), got "
                         f"{arr.shape}; pass one value per tree or a single value for all")
    return arr.copy()


def new_store(batch: int, capacity: int, *, exploration: float | Any = 1.4,
              discount: float | Any = 1.0, virtual_loss: float | Any = 1.0,
              xp: Any = np) -> TreeStore:
    """An empty store: each of the ``batch`` trees holds only its root (node 0).

    ``exploration``, ``discount`` and ``virtual_loss`` are scalars or ``[B]`` vectors.
    ``xp`` is the array module the store lives in (``numpy`` or ``cupy``).
    """
    if int(batch) < 1 or int(capacity) < 1:
        raise ValueError(f"batch and capacity must be >= 1, got batch={batch}, "
                         f"capacity={capacity}")
    if capacity >= 2**31 - 1:
        raise ValueError(f"capacity {capacity} does not fit int32 node indices; "
                         "use fewer than 2**31-1 nodes per tree")
    B, M = int(batch), int(capacity)
    host = {name: np.zeros((B, M), dtype=dt) for name, dt in NODE_DTYPES.items()}
    host["parent"][:] = NO_NODE
    host["first_child"][:] = NO_NODE
    host["num_nodes"] = np.ones(B, dtype=np.int32)
    host["exploration"] = _as_tree_vector("exploration", exploration, B, np.float32)
    host["discount"] = _as_tree_vector("discount", discount, B, np.float32)
    host["virtual_loss"] = _as_tree_vector("virtual_loss", virtual_loss, B, np.float32)
    store = TreeStore(**host)
    return store if xp is np else store.map(xp.asarray)


def refresh_parent_terms(store: TreeStore, xp: Any = np) -> None:
    """Recompute ``parent_sqrt_log`` of every node from ``visits``, ``inflight`` and
    ``parent`` (after writing those fields directly; the ops keep it current)."""
    from .policies import SQRT_LOG_TABLE

    M = store.capacity
    counts = store.visits.astype(xp.int64) + store.inflight
    own = xp.broadcast_to(xp.arange(M, dtype=xp.int64)[None, :], counts.shape)
    p = xp.where(store.parent < 0, own, store.parent.astype(xp.int64))
    cp = xp.maximum(xp.take_along_axis(counts, p, axis=1), 1)
    table = xp.asarray(SQRT_LOG_TABLE)
    out = table[xp.minimum(cp, len(SQRT_LOG_TABLE) - 1)]
    big = cp >= len(SQRT_LOG_TABLE)
    if bool(big.any()):
        out = xp.where(big, xp.sqrt(xp.log(cp.astype(xp.float64))), out)
    store.parent_sqrt_log[...] = out
