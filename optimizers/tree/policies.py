"""Selection policies shared by every backend, and the tie-break rule.

All backends compute a node's score with the same float64 operations, in the same
order, from the store's float32/int32 fields (so results agree bit for bit on CPU):

* with ``n = visits + inflight`` (in-flight descents count as visits) and
  ``w = value_sum - virtual_loss * inflight`` (each one as a loss), ``q = w / n``;
  ``n_p`` is the same count of the parent (of the node itself for a root), at least 1;
* **UCT**:  ``(w + (c * sqrt_log(n_p)) * sqrt(n)) / n``, i.e. ``q + c sqrt(log(n_p) / n)``
  with a single division; ``+inf`` when ``n == 0``;
* **PUCT**: ``q + c * prior * sqrt(n_p) / (1 + n)``, with ``q = 0`` when ``n == 0``;
* **A***:   ``-(g + h)`` (highest score = lowest f-cost).

The *open frontier* is the allocated nodes with no FLAG_EXPANDED, FLAG_TERMINAL or
FLAG_PRUNED bit; for A* also no in-flight expansion (``inflight == 0``).

**Tie-break rule.** Candidates are ordered by score, highest first, and among equal
scores by node index, lowest first. ``score``'s top-k and ``descend``'s choice of a
child both follow it, so every backend returns the same indices.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Policy(IntEnum):
    """Scoring rule; the integer value is what kernels receive."""

    UCT = 0
    PUCT = 1
    ASTAR = 2


_ALIASES = {"uct": Policy.UCT, "puct": Policy.PUCT, "astar": Policy.ASTAR,
            "a*": Policy.ASTAR, "a_star": Policy.ASTAR}


def as_policy(policy: Policy | str | int) -> Policy:
    """Parse ``"uct" | "puct" | "astar"`` (any case), an int code or a Policy."""
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, str):
        key = policy.strip().lower()
        if key in _ALIASES:
            return _ALIASES[key]
        raise ValueError(f"unknown policy {policy!r}; use one of 'uct', 'puct', 'astar'")
    if isinstance(policy, int) and not isinstance(policy, bool):
        try:
            return Policy(policy)
        except ValueError:
            pass
    raise ValueError(f"unknown policy {policy!r}; use one of 'uct', 'puct', 'astar' "
                     f"or codes {[int(p) for p in Policy]}")


SQRT_LOG_TABLE_SIZE = 1 << 14
#: ``sqrt(log(x))`` for x in [0, 16384) (x = 0 reads as x = 1); float64, read-only.
SQRT_LOG_TABLE = np.sqrt(np.log(np.maximum(np.arange(SQRT_LOG_TABLE_SIZE), 1).astype(np.float64)))
SQRT_LOG_TABLE.setflags(write=False)


def sqrt_log(counts: np.ndarray) -> np.ndarray:
    """``sqrt(log(max(counts, 1)))`` as every backend computes it (table, then formula)."""
    counts = np.maximum(np.asarray(counts, dtype=np.int64), 1)
    out = SQRT_LOG_TABLE[np.minimum(counts, SQRT_LOG_TABLE_SIZE - 1)]
    big = counts >= SQRT_LOG_TABLE_SIZE
    if big.any():
        out = np.where(big, np.sqrt(np.log(counts.astype(np.float64))), out)
    return out
