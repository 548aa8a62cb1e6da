"""The reference backend: plain NumPy, vectorised over trees, readable over fast.

Every other backend is tested against this one. Loops here run over tree depth,
paths per tree or children per leaf (all small), never over trees or nodes.
"""

from __future__ import annotations

import numpy as np

from ..policies import Policy, sqrt_log
from ..store import CLOSED_MASK, FLAG_EXPANDED, FLAG_PRUNED, TreeStore
from .base import TopK, TreeBackend


def node_scores(store: TreeStore, policy: Policy, b: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Scores (float64) of nodes ``(b, n)`` (same-shape index arrays), per policies.py."""
    if policy == Policy.ASTAR:
        return -(store.g[b, n].astype(np.float64) + store.h[b, n].astype(np.float64))
    inflight = store.inflight[b, n]
    cnt = (store.visits[b, n] + inflight).astype(np.float64)
    w = (store.value_sum[b, n].astype(np.float64)
         - store.virtual_loss[b].astype(np.float64) * inflight.astype(np.float64))
    parent = store.parent[b, n]
    p = np.where(parent < 0, n, parent)
    cnt_p_int = np.maximum(store.visits[b, p] + store.inflight[b, p], 1)
    cnt_p = cnt_p_int.astype(np.float64)
    c = store.exploration[b].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(cnt > 0, w / cnt, 0.0)
        if policy == Policy.UCT:
            return np.where(cnt > 0, (w + (c * sqrt_log(cnt_p_int)) * np.sqrt(cnt)) / cnt, np.inf)
        prior = store.prior[b, n].astype(np.float64)
        return q + c * prior * np.sqrt(cnt_p) / (1.0 + cnt)


def refresh_paths(store: TreeStore, leaves: np.ndarray) -> None:
    """Bring ``parent_sqrt_log`` up to date for the children of every node from each
    leaf up to its root (the nodes whose counts descend or backup changed), and for
    the roots themselves."""
    B, P = leaves.shape
    rows = np.arange(B)
    for path in range(P):
        node = leaves[:, path].astype(np.int64)
        active = node >= 0
        while active.any():
            b, n = rows[active], node[active]
            term = sqrt_log(store.visits[b, n].astype(np.int64) + store.inflight[b, n])
            count = store.num_children[b, n]
            first = store.first_child[b, n].astype(np.int64)
            for j in range(int(count.max()) if len(b) else 0):  # children per node (small)
                m = j < count
                store.parent_sqrt_log[b[m], first[m] + j] = term[m]
            root = store.parent[b, n] < 0
            store.parent_sqrt_log[b[root], n[root]] = term[root]
            node[active] = store.parent[b, n]
            active = node >= 0


def frontier_mask(store: TreeStore, policy: Policy) -> np.ndarray:
    """bool [B, M]: allocated nodes with no closed flag (and, for A*, none in flight)."""
    M = store.capacity
    mask = (np.arange(M)[None, :] < store.num_nodes[:, None]) & ((store.flags & CLOSED_MASK) == 0)
    if policy == Policy.ASTAR:
        mask &= store.inflight == 0
    return mask


def topk_rows(scores: np.ndarray, k: int) -> TopK:
    """Top-k per row by (score desc, index asc); ``-inf`` entries count as absent."""
    M = scores.shape[1]
    if k == 1:
        idx = np.argmax(scores, axis=1)[:, None]  # first maximum = lowest index
    else:
        idx = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, M)]
    vals = np.take_along_axis(scores, idx, axis=1)
    idx = np.where(vals == -np.inf, -1, idx).astype(np.int32)
    if idx.shape[1] < k:
        pad = k - idx.shape[1]
        vals = np.pad(vals, ((0, 0), (0, pad)), constant_values=-np.inf)
        idx = np.pad(idx, ((0, 0), (0, pad)), constant_values=-1)
    return TopK(vals, idx)


class NumpyBackend(TreeBackend):
    """Reference kernels; materialises the full ``[B, M]`` score array."""

    name = "numpy"
    xp = np

    def _score(self, store: TreeStore, policy: Policy, k: int) -> TopK:
        B, M = store.visits.shape
        b = np.arange(B)[:, None]
        n = np.broadcast_to(np.arange(M)[None, :], (B, M))
        scores = node_scores(store, policy, np.broadcast_to(b, (B, M)), n)
        scores = np.where(frontier_mask(store, policy), scores, -np.inf)
        return topk_rows(scores, k)

    def _descend(self, store: TreeStore, policy: Policy, num_paths: int) -> np.ndarray:
        B = store.batch_size
        rows = np.arange(B)
        leaves = np.empty((B, num_paths), dtype=np.int32)
        for path in range(num_paths):  # paths of one tree in order: virtual loss between
            node = np.zeros(B, dtype=np.int64)
            store.inflight[rows, node] += 1
            active = np.ones(B, dtype=bool)
            while True:
                active &= ((store.flags[rows, node] & FLAG_EXPANDED) != 0) & (
                    store.num_children[rows, node] > 0)
                if not active.any():
                    break
                b = rows[active]
                first = store.first_child[b, node[active]].astype(np.int64)
                count = store.num_children[b, node[active]]
                width = int(count.max())
                kids = first[:, None] + np.arange(width)[None, :]
                valid = np.arange(width)[None, :] < count[:, None]
                kids = np.where(valid, kids, first[:, None])
                bb = np.broadcast_to(b[:, None], kids.shape)
                valid &= (store.flags[bb, kids] & FLAG_PRUNED) == 0
                s = np.where(valid, node_scores(store, policy, bb, kids), -np.inf)
                choice = np.argmax(s, axis=1)
                has = valid.any(axis=1)
                chosen = kids[np.arange(len(b)), choice]
                move = b[has]
                node[move] = chosen[has]
                store.inflight[move, node[move]] += 1
                active[b[~has]] = False
            leaves[:, path] = node
        refresh_paths(store, leaves)
        return leaves

    def _expand(self, store: TreeStore, leaves: np.ndarray, k: np.ndarray, reward: np.ndarray,
                prior: np.ndarray, cost: np.ndarray, h: np.ndarray) -> np.ndarray:
        B, P = leaves.shape
        rows = np.arange(B)
        first = np.full((B, P), -1, dtype=np.int32)
        for slot in range(P):
            leaf = leaves[:, slot].astype(np.int64)
            kk = k[:, slot]
            safe = np.maximum(leaf, 0)
            ok = ((leaf >= 0) & (leaf < store.num_nodes) & (kk > 0)
                  & ((store.flags[rows, safe] & FLAG_EXPANDED) == 0)
                  & (store.num_nodes.astype(np.int64) + kk <= store.capacity))
            b, parent, cnt = rows[ok], leaf[ok], kk[ok]
            start = store.num_nodes[b].astype(np.int64)
            first[b, slot] = start
            store.first_child[b, parent] = start
            store.num_children[b, parent] = cnt
            store.flags[b, parent] |= FLAG_EXPANDED
            parent_g = store.g[b, parent]
            parent_term = sqrt_log(store.visits[b, parent].astype(np.int64)
                                   + store.inflight[b, parent])
            for j in range(int(cnt.max()) if len(b) else 0):  # children per leaf (small)
                m = j < cnt
                bj, child = b[m], start[m] + j
                store.visits[bj, child] = 0
                store.value_sum[bj, child] = 0
                store.inflight[bj, child] = 0
                store.flags[bj, child] = 0
                store.first_child[bj, child] = -1
                store.num_children[bj, child] = 0
                store.parent[bj, child] = parent[m]
                store.depth[bj, child] = store.depth[bj, parent[m]] + 1
                store.reward[bj, child] = reward[bj, slot, j]
                store.prior[bj, child] = prior[bj, slot, j]
                store.g[bj, child] = parent_g[m] + cost[bj, slot, j]
                store.h[bj, child] = h[bj, slot, j]
                store.parent_sqrt_log[bj, child] = parent_term[m]
            store.num_nodes[b] += cnt
        return first

    def _backup(self, store: TreeStore, leaves: np.ndarray, values: np.ndarray,
                release: bool) -> None:
        B, P = leaves.shape
        rows = np.arange(B)
        gamma = store.discount.astype(np.float64)
        for path in range(P):  # in order, so shared ancestors add up exactly as in a loop
            node = leaves[:, path].astype(np.int64)
            ret = values[:, path].astype(np.float64)
            active = node >= 0
            while active.any():
                b, n = rows[active], node[active]
                store.visits[b, n] += 1
                store.value_sum[b, n] = store.value_sum[b, n].astype(np.float64) + ret[active]
                if release:
                    store.inflight[b, n] -= 1
                ret[active] = store.reward[b, n].astype(np.float64) + gamma[b] * ret[active]
                node[active] = store.parent[b, n]
                active = node >= 0
        refresh_paths(store, leaves)
