"""`Forest`: a tree store, its backend and its payloads in one object, with every store
call timed, and plain-JSON save/load.

The search optimizers keep their numbers (visits, values, costs, structure) in the
vectorised store of :mod:`undertow.optimizers.tree` and what the nodes mean (prompt
text, scores, states) in a host-side :class:`PayloadTable`. This wrapper is the one
place that touches both, so that (a) the time spent in tree operations can be
measured apart from LLM time (``tree_seconds``), and (b) a search can be saved as
JSON data and resumed on any backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np
from undertow.engine import StateError
from undertow.optimizers.tree import (
    FLAG_EXPANDED,
    FLAG_PRUNED,
    FLAG_TERMINAL,
    PayloadTable,
    TopK,
    TreeBackend,
    get_backend,
)
from undertow.optimizers.tree.store import (
    NODE_DTYPES,
    TREE_DTYPES,
    new_store,
    refresh_parent_terms,
)

#: node fields a saved forest keeps; the cached parent term is recomputed on load
SAVED_FIELDS = tuple(name for name in NODE_DTYPES if name != "parent_sqrt_log")

__all__ = ["FLAG_EXPANDED", "FLAG_PRUNED", "FLAG_TERMINAL", "Forest"]


class Forest:
    """B search trees of capacity M: the store (numbers) plus payloads (meanings).

    Args:
        batch: B, the number of trees.
        capacity: M, nodes per tree.
        backend: a backend name ("numpy", "numba", "cupy"), a backend, or None to
            choose by size (NumPy for small forests, the fastest available above;
            see `get_backend`).
        payload_codec: ``(encode, decode)`` turning one payload into JSON data and
            back, for ``state_dict``; the identity by default.
        **settings: per-tree settings for ``new_store`` (exploration, discount,
            virtual_loss).
    """

    def __init__(self, batch: int, capacity: int, *, backend: str | TreeBackend | None = None,
                 payload_codec: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = None,
                 **settings: Any) -> None:
        self.backend = (backend if isinstance(backend, TreeBackend)
                        else get_backend(backend, nodes=batch * capacity))
        self.store = self.backend.new_store(batch, capacity, **settings)
        self.payloads = PayloadTable(batch)
        self.tree_seconds = 0.0
        self.tree_calls = 0
        self._encode, self._decode = payload_codec or (lambda p: p, lambda d: d)

    @property
    def batch(self) -> int:
        return self.store.batch_size

    @property
    def capacity(self) -> int:
        return self.store.capacity

    @contextmanager
    def timed(self) -> Any:
        """Count the wall time of the block as time in tree operations."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.tree_seconds += time.perf_counter() - start
            self.tree_calls += 1

    # ---- timed store operations -------------------------------------------------
    def descend(self, policy: str, num_paths: int) -> np.ndarray:
        with self.timed():
            return self.backend.to_host(self.backend.descend(self.store, policy, num_paths))

    def expand(self, leaves: Any, k: Any, **children: Any) -> np.ndarray:
        with self.timed():
            return self.backend.to_host(self.backend.expand(self.store, leaves, k, **children))

    def backup(self, leaves: Any, values: Any, *, release: bool = True) -> None:
        with self.timed():
            self.backend.backup(self.store, leaves, values, release_virtual_loss=release)

    def score(self, policy: str, k: int) -> TopK:
        with self.timed():
            top = self.backend.score(self.store, policy, k)
            return TopK(self.backend.to_host(top.values), self.backend.to_host(top.index))

    def init_children(self, tree: int, first: int, values: Any) -> None:
        """Count one evaluation of value ``values[j]`` on child ``first + j`` (not its parents).

        New children whose value is already known (a held-out score, a verifier's
        verdict) start with that estimate, so UCT ranks them by it instead of by index
        among unvisited nodes; the path above gets its update from the usual backup.
        """
        vals = np.asarray(values, dtype=np.float32)
        with self.timed():
            lo, hi = int(first), int(first) + len(vals)
            # new children have no children yet: no cached parent term depends on these
            self.store.visits[int(tree), lo:hi] = 1
            self.store.value_sum[int(tree), lo:hi] = self.backend.xp.asarray(vals)

    def mark(self, tree: int, node: int, flag: Any) -> None:
        """Set ``flag`` (FLAG_TERMINAL / FLAG_PRUNED / FLAG_EXPANDED) on one node."""
        with self.timed():
            self.store.flags[int(tree), int(node)] |= flag

    def host(self, field: str, tree: int | None = None) -> np.ndarray:
        """A NumPy copy of one store field (one tree's row when ``tree`` is given)."""
        with self.timed():
            arr = getattr(self.store, field)
            return self.backend.to_host(arr if tree is None else arr[int(tree)])

    def children(self, tree: int, node: int) -> range:
        """The indices of ``node``'s children (contiguous; empty for a leaf)."""
        with self.timed():
            first = int(self.store.first_child[int(tree), int(node)])
            count = int(self.store.num_children[int(tree), int(node)])
        return range(first, first + count) if first >= 0 else range(0)

    def path_to_root(self, tree: int, node: int) -> list[int]:
        """Node indices from the root down to ``node``."""
        parents = self.host("parent", tree)
        path = [int(node)]
        while parents[path[-1]] >= 0:
            path.append(int(parents[path[-1]]))
        return path[::-1]

    # ---- state -----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The allocated part of every field, the payloads and the settings, as JSON data."""
        used = int(self.host("num_nodes").max())
        node_fields = {name: self.host(name)[:, :used].tolist() for name in SAVED_FIELDS}
        tree_fields = {name: self.host(name).tolist() for name in TREE_DTYPES}
        payloads = [[[node, self._encode(p)] for node, p in self.payloads.tree_items(b)]
                    for b in range(self.batch)]
        return {"batch": self.batch, "capacity": self.capacity, "used": used,
                "nodes": node_fields, "trees": tree_fields, "payloads": payloads,
                "tree_seconds": self.tree_seconds, "tree_calls": self.tree_calls}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output into this forest (same batch and capacity)."""
        try:
            batch, capacity, used = int(state["batch"]), int(state["capacity"]), int(state["used"])
            if (batch, capacity) != (self.batch, self.capacity):
                raise StateError(f"saved forest has batch={batch}, capacity={capacity}; this "
                                 f"one {self.batch}, {self.capacity}: build it with the same "
                                 "settings")
            host = new_store(batch, capacity)
            for name in SAVED_FIELDS:
                arr = np.asarray(state["nodes"][name], dtype=NODE_DTYPES[name])
                if arr.shape != (batch, used):
                    raise StateError(f"saved field {name!r} has shape {arr.shape}, expected "
                                     f"{(batch, used)}")
                getattr(host, name)[:, :used] = arr
            for name, dtype in TREE_DTYPES.items():
                setattr(host, name, np.asarray(state["trees"][name], dtype=dtype))
            refresh_parent_terms(host)
            payloads = PayloadTable(batch)
            for b, rows in enumerate(state["payloads"]):
                for node, data in rows:
                    payloads[b, int(node)] = self._decode(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"malformed forest state ({exc!r}); pass what "
                             "Forest.state_dict() returned") from None
        self.store = self.backend.to_device(host)
        self.payloads = payloads
        self.tree_seconds = float(state.get("tree_seconds", 0.0))
        self.tree_calls = int(state.get("tree_calls", 0))
