"""Vectorised tree store for a batch of search trees (MCTS, beam, best-first / A*).

>>> from undertow.optimizers.tree import get_backend
>>> be = get_backend()                       # cupy > numba > numpy, or by name
>>> store = be.new_store(batch=4, capacity=1000)
>>> first = be.expand(store, [0, 0, 0, 0], k=3)      # 3 children under each root
>>> leaves = be.descend(store, "uct", num_paths=2)   # [B, 2], virtual loss applied
>>> be.backup(store, leaves, [[1.0, 0.0]] * 4)       # reward-to-go up to the roots
>>> best = be.score(store, "uct", k=2)               # top-2 open leaves per tree
"""

from .backends import TopK, TreeBackend, available_backends, get_backend
from .payloads import PayloadTable
from .policies import Policy, as_policy
from .store import (
                    BYTES_PER_NODE,
                    FLAG_EXPANDED,
                    FLAG_PRUNED,
                    FLAG_TERMINAL,
                    NO_NODE,
                    ROOT,
                    TreeStore,
                    new_store,
                    refresh_parent_terms,
)

__all__ = [
                    "BYTES_PER_NODE",
                    "FLAG_EXPANDED",
                    "FLAG_PRUNED",
                    "FLAG_TERMINAL",
                    "NO_NODE",
                    "ROOT",
                    "PayloadTable",
                    "Policy",
                    "TopK",
                    "TreeBackend",
                    "TreeStore",
                    "as_policy",
                    "available_backends",
                    "get_backend",
                    "new_store",
                    "refresh_parent_terms",
]
