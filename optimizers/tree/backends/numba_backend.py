"""CPU kernels compiled with Numba: parallel over trees (and over chunks of a tree).

Rules kept here: ``@njit(parallel=True)``; every buffer a parallel loop writes is
allocated before the ``prange`` (scratch rows are per thread, by ``get_thread_id``); float arithmetic mirrors ``numpy_backend`` operation
for operation (no fastmath), so scores and sums agree bit for bit. Paths of one tree
run in order inside one iteration of the parallel loop, so two paths that share
ancestors can never race: backups are exact without atomics.
"""

from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads, get_thread_id, njit, prange

from ..policies import SQRT_LOG_TABLE, Policy
from ..store import CLOSED_MASK, FLAG_EXPANDED, FLAG_PRUNED, TreeStore
from .base import TopK, TreeBackend

_UCT, _PUCT, _ASTAR = int(Policy.UCT), int(Policy.PUCT), int(Policy.ASTAR)
_CLOSED, _EXPANDED, _PRUNED = int(CLOSED_MASK), int(FLAG_EXPANDED), int(FLAG_PRUNED)
#: Nodes per parallel work item of `score`: big enough to amortise, small enough to
#: spread one large tree over every core.
SCORE_CHUNK = 1 << 15
#: Nodes per block inside a chunk: the scratch rows (per thread) stay in L1.
SCORE_BLOCK = 512


@njit(inline="always", cache=True, error_model="numpy")
def _sqrt_log(table, count):
    """sqrt(log(max(count, 1))): the table below its size, the formula above."""
    cp = max(count, np.int32(1))
    if cp < table.shape[0]:
        return table[cp]
    return math.sqrt(math.log(np.float64(cp)))


@njit(inline="always", cache=True, error_model="numpy")
def _parent_term(policy, table, visits, inflight, exploration, b, p):
    """UCT: c * sqrt(log(n_p)); PUCT: sqrt(n_p)."""
    cp = np.int32(visits[b, p] + inflight[b, p])
    if policy == _UCT:
        return np.float64(exploration[b]) * _sqrt_log(table, cp)
    return math.sqrt(np.float64(max(cp, np.int32(1))))


@njit(inline="always", cache=True, error_model="numpy")
def _child_score(policy, visits, value_sum, prior, g, h, inflight, exploration,
                 virtual_loss, b, n, term):
    """Score of node n given its parent's term (see policies.py)."""
    if policy == _ASTAR:
        return -(np.float64(g[b, n]) + np.float64(h[b, n]))
    inf_n = inflight[b, n]
    cnt = visits[b, n] + inf_n
    cntf = np.float64(cnt)
    w = np.float64(value_sum[b, n]) - np.float64(virtual_loss[b]) * np.float64(inf_n)
    if policy == _UCT:
        if cnt == 0:
            return math.inf
        return (w + term * math.sqrt(cntf)) / cntf
    q = w / cntf if cnt > 0 else 0.0
    return q + np.float64(exploration[b]) * np.float64(prior[b, n]) * term / (1.0 + cntf)


# The block functions below index 1-D slices that start at the block, with loop
# counters that start at 0: Numba then knows no index is negative, drops its
# wraparound check, and LLVM vectorises the loop (indexing the [B, M] arrays with
# ``lo + i`` instead ran scalar, about 4x slower). Each returns whether any score beats
# ``thr`` as an integer OR, which vectorises where a float max reduction does not.
@njit(inline="always", cache=True, error_model="numpy")
def _fill_terms(policy, table, visits, inflight, exploration, b, parent, first_child,
                num_children, lo, m, tb):
    """tb[i] = the parent term of node lo + i, computed once per run of siblings.

    Siblings are contiguous, so the run of node n ends where its parent's children do;
    a run of 1 is the floor (a root, or a store whose links disagree). ``tb`` has 8
    spare slots: runs are written 8 at a time and the next run overwrites the excess.
    """
    i = 0
    while i < m:
        n = lo + i
        p = parent[b, n]
        if p < 0:
            p = n
            end = i + 1
        else:
            end = max(min(first_child[b, p] + num_children[b, p] - lo, m), i + 1)
        term = _parent_term(policy, table, visits, inflight, exploration, b, p)
        j = i
        while j < end:
            u = np.uint64(j)  # unsigned: no wraparound check, so the 8 stores merge
            for q in range(8):
                tb[u + np.uint64(q)] = term
            j += 8
        i = end


@njit(inline="always", cache=True, error_model="numpy")
def _uct_block(vv, vs, vi, vf, psl, c, vl, m, sb, thr):
    hit = np.int32(0)
    for i in range(m):
        inf_n = vi[i]
        cnt = np.int32(vv[i] + inf_n)  # int32: AVX2 has no int64 -> float conversion
        cntf = np.float64(cnt)
        w = np.float64(vs[i]) - vl * np.float64(inf_n)
        s = (w + (c * psl[i]) * math.sqrt(cntf)) / max(cntf, 1.0)
        s = math.inf if cnt == 0 else s
        s = -math.inf if (vf[i] & _CLOSED) != 0 else s
        sb[i] = s
        hit |= np.int32(s > thr)
    return hit


@njit(inline="always", cache=True, error_model="numpy")
def _puct_block(vv, vs, vi, vf, vp, vl, c, tb, m, sb, thr):
    hit = np.int32(0)
    for i in range(m):
        inf_n = vi[i]
        cnt = np.int32(vv[i] + inf_n)
        cntf = np.float64(cnt)
        w = np.float64(vs[i]) - vl * np.float64(inf_n)
        q = w / max(cntf, 1.0)
        q = q if cnt > 0 else 0.0
        s = q + c * np.float64(vp[i]) * tb[i] / (1.0 + cntf)
        s = -math.inf if (vf[i] & _CLOSED) != 0 else s
        sb[i] = s
        hit |= np.int32(s > thr)
    return hit


@njit(inline="always", cache=True, error_model="numpy")
def _astar_block(vg, vh, vi, vf, m, sb, thr):
    hit = np.int32(0)
    for i in range(m):
        s = -(np.float64(vg[i]) + np.float64(vh[i]))
        closed = (np.int32(vf[i] & _CLOSED) | vi[i]) != 0
        s = -math.inf if closed else s
        sb[i] = s
        hit |= np.int32(s > thr)
    return hit


_KEY_MIN = np.int64(-(2**63))
_KEY_MASK = np.int64(2**63 - 1)


@njit(inline="always", cache=True)
def _order_key(sb, bits, i):
    """An int64 that orders like the float ``sb[i]`` (NaN lowest): integer max
    reductions vectorise where float ones do not."""
    x = bits[i]
    x ^= (x >> 63) & _KEY_MASK
    return x if sb[i] == sb[i] else _KEY_MIN


@njit(cache=True, error_model="numpy")
def _topk_insert(sb, m, lo, k, vals, idx, thr):
    """Merge block scores ``sb[:m]`` (nodes ``lo ..``) into the sorted top-k ``vals`` /
    ``idx`` whose k-th value is ``thr``; returns the new k-th value. Not inlined: it
    runs only for blocks with a score above ``thr``, and inlining it into the kernel
    slowed the score loop (measured side by side)."""
    if k == 1:  # argmax: the max as an integer reduction (it vectorises), then its index
        bits = sb.view(np.int64)
        best = _KEY_MIN
        for i in range(m):
            best = max(best, _order_key(sb, bits, i))
        i = 0
        while _order_key(sb, bits, i) != best:  # lowest index among equal maxima
            i += 1
        if sb[i] > thr:
            vals[0] = sb[i]
            idx[0] = lo + i
            thr = sb[i]
        return thr
    for i in range(m):
        s = sb[i]
        if s > thr:  # strict: an equal score with a higher index never enters
            pos = k - 1
            while pos > 0 and s > vals[pos - 1]:
                vals[pos] = vals[pos - 1]
                idx[pos] = idx[pos - 1]
                pos -= 1
            vals[pos] = s
            idx[pos] = lo + i
            thr = vals[k - 1]
    return thr


@njit(parallel=True, cache=True, error_model="numpy")
def _score_kernel(policy, k, chunk, table, visits, value_sum, prior, g, h, inflight, flags,
                  parent, first_child, num_children, parent_sqrt_log, num_nodes, exploration,
                  virtual_loss, tbuf, sbuf, part_vals, part_idx, out_vals, out_idx):
    """Per (tree, chunk) item, blocks of BLOCK nodes in three passes: parent terms
    (scalar, one per run of siblings), scores (branch-free, SIMD), then top-k insertion
    only for blocks with a score above the current k-th best."""
    B, M = visits.shape
    C = (M + chunk - 1) // chunk
    blk = sbuf.shape[1]
    for t in prange(B * C):  # writes only row t of part_* and this thread's scratch row
        r = get_thread_id()
        tb = tbuf[r]
        sb = sbuf[r]
        b = t // C
        lo0 = (t - b * C) * chunk
        hi = min(lo0 + chunk, num_nodes[b])
        thr = -math.inf
        c = np.float64(exploration[b])
        vl = np.float64(virtual_loss[b])
        for lo in range(lo0, hi, blk):
            e = min(lo + blk, hi)
            m = e - lo
            if policy == _ASTAR:
                hit = _astar_block(g[b, lo:e], h[b, lo:e], inflight[b, lo:e], flags[b, lo:e],
                                   m, sb, thr)
            elif policy == _UCT:  # parent terms streamed from the cached field
                hit = _uct_block(visits[b, lo:e], value_sum[b, lo:e], inflight[b, lo:e],
                                 flags[b, lo:e], parent_sqrt_log[b, lo:e], c, vl, m, sb, thr)
            else:
                _fill_terms(policy, table, visits, inflight, exploration, b, parent,
                            first_child, num_children, lo, m, tb)
                hit = _puct_block(visits[b, lo:e], value_sum[b, lo:e], inflight[b, lo:e],
                                  flags[b, lo:e], prior[b, lo:e], vl, c, tb, m, sb, thr)
            if hit:
                thr = _topk_insert(sb, m, lo, k, part_vals[t], part_idx[t], thr)


@njit(cache=True, error_model="numpy")
def _merge_chunks(k, C, part_vals, part_idx, out_vals, out_idx):
    """Merge the per-chunk top-k of each tree in chunk (index) order: the same tie-break
    as one pass over the tree. Serial, in the calling thread: B * C * k values is little
    work, and a second parallel region would wait once more for every worker thread
    (on a loaded machine, a scheduler time slice when one is descheduled)."""
    B = out_vals.shape[0]
    for b in range(B):
        for c in range(C):
            t = b * C + c
            for j in range(k):
                s = part_vals[t, j]
                if not s > out_vals[b, k - 1]:
                    break
                pos = k - 1
                while pos > 0 and s > out_vals[b, pos - 1]:
                    out_vals[b, pos] = out_vals[b, pos - 1]
                    out_idx[b, pos] = out_idx[b, pos - 1]
                    pos -= 1
                out_vals[b, pos] = s
                out_idx[b, pos] = part_idx[t, j]


@njit(parallel=True, cache=True, error_model="numpy")
def _descend_kernel(policy, num_paths, table, visits, value_sum, prior, g, h, inflight, flags,
                    first_child, num_children, exploration, virtual_loss, leaves):
    B = visits.shape[0]
    for b in prange(B):
        for path in range(num_paths):  # in order: each sees the previous virtual losses
            node = 0
            inflight[b, node] += 1
            while (flags[b, node] & _EXPANDED) and num_children[b, node] > 0:
                term = 0.0
                if policy != _ASTAR:
                    term = _parent_term(policy, table, visits, inflight, exploration, b, node)
                best = -math.inf
                arg = -1
                fc = first_child[b, node]
                for c in range(fc, fc + num_children[b, node]):
                    if flags[b, c] & _PRUNED:
                        continue
                    s = _child_score(policy, visits, value_sum, prior, g, h, inflight,
                                     exploration, virtual_loss, b, c, term)
                    if arg == -1 or s > best:
                        best = s
                        arg = c
                if arg == -1:
                    break
                node = arg
                inflight[b, node] += 1
            leaves[b, path] = node


@njit(parallel=True, cache=True, error_model="numpy")
def _expand_kernel(leaves, k, reward, prior_in, cost, h_in, table, visits, value_sum, rew,
                   prior, g, h, inflight, flags, parent, first_child, num_children, depth,
                   parent_sqrt_log, num_nodes, first):
    B, P = leaves.shape
    M = visits.shape[1]
    for b in prange(B):
        for slot in range(P):
            leaf = leaves[b, slot]
            kk = k[b, slot]
            first[b, slot] = -1
            if leaf < 0 or leaf >= num_nodes[b] or kk <= 0 or (flags[b, leaf] & _EXPANDED):
                continue
            start = num_nodes[b]
            if start + kk > M:
                continue
            first[b, slot] = start
            first_child[b, leaf] = start
            num_children[b, leaf] = kk
            flags[b, leaf] |= _EXPANDED
            term = _sqrt_log(table, np.int32(visits[b, leaf] + inflight[b, leaf]))
            for j in range(kk):
                c = start + j
                visits[b, c] = 0
                value_sum[b, c] = 0
                inflight[b, c] = 0
                flags[b, c] = 0
                first_child[b, c] = -1
                num_children[b, c] = 0
                parent[b, c] = leaf
                depth[b, c] = depth[b, leaf] + 1
                rew[b, c] = reward[b, slot, j]
                prior[b, c] = prior_in[b, slot, j]
                g[b, c] = g[b, leaf] + cost[b, slot, j]
                h[b, c] = h_in[b, slot, j]
                parent_sqrt_log[b, c] = term
            num_nodes[b] = start + kk


@njit(parallel=True, cache=True, error_model="numpy")
def _backup_kernel(leaves, values, release, visits, value_sum, reward, inflight, parent,
                   discount):
    B, P = leaves.shape
    for b in prange(B):
        gamma = np.float64(discount[b])
        for path in range(P):  # paths of one tree in order: shared ancestors are exact
            node = leaves[b, path]
            ret = values[b, path]
            while node >= 0:
                visits[b, node] += 1
                value_sum[b, node] = np.float64(value_sum[b, node]) + ret
                if release:
                    inflight[b, node] -= 1
                ret = np.float64(reward[b, node]) + gamma * ret
                node = parent[b, node]


@njit(parallel=True, cache=True, error_model="numpy")
def _refresh_kernel(leaves, table, visits, inflight, parent, first_child, num_children,
                    parent_sqrt_log):
    """parent_sqrt_log of the children of every node on each leaf's path to the root
    (and of the roots): the counts that descend or backup changed."""
    B, P = leaves.shape
    for b in prange(B):
        for path in range(P):
            node = leaves[b, path]
            while node >= 0:
                t = _sqrt_log(table, np.int32(visits[b, node] + inflight[b, node]))
                fc = first_child[b, node]
                for c in range(fc, fc + num_children[b, node]):
                    parent_sqrt_log[b, c] = t
                if parent[b, node] < 0:
                    parent_sqrt_log[b, node] = t
                node = parent[b, node]


def _serial(kernel):
    """The same kernel compiled without threads (``prange`` runs as ``range``)."""
    return njit(cache=True, error_model="numpy")(kernel.py_func)


_SERIAL = {k.py_func.__name__: _serial(k) for k in
           (_score_kernel, _descend_kernel, _expand_kernel, _backup_kernel, _refresh_kernel)}
#: Below these sizes a call runs on one thread: waking the pool costs more than the
#: work (and, on a busy machine, a sleeping worker can stall a region for a timeslice).
PARALLEL_MIN_NODES = 1 << 18
PARALLEL_MIN_TREES = 256


def _pick(kernel, parallel: bool):
    return kernel if parallel else _SERIAL[kernel.py_func.__name__]


class NumbaBackend(TreeBackend):
    """Parallel CPU kernels; `score` never materialises the ``[B, M]`` score array."""

    name = "numba"
    xp = np

    def _score(self, store: TreeStore, policy: Policy, k: int) -> TopK:
        s = store
        B, M = s.visits.shape
        chunk = min(SCORE_CHUNK, M)
        C = (M + chunk - 1) // chunk
        out_vals = np.full((B, k), -np.inf)
        out_idx = np.full((B, k), -1, dtype=np.int32)
        if C == 1:  # small trees: each work item is a whole tree and writes its own result
            part_vals, part_idx = out_vals, out_idx
        else:
            part_vals = np.full((B * C, k), -np.inf)
            part_idx = np.full((B * C, k), -1, dtype=np.int32)
        tbuf = np.empty((get_num_threads(), SCORE_BLOCK + 8))
        sbuf = np.empty((get_num_threads(), SCORE_BLOCK))
        kernel = _pick(_score_kernel, B * M >= PARALLEL_MIN_NODES)
        kernel(int(policy), k, chunk, SQRT_LOG_TABLE, s.visits, s.value_sum, s.prior, s.g,
               s.h, s.inflight, s.flags, s.parent, s.first_child, s.num_children,
               s.parent_sqrt_log, s.num_nodes, s.exploration, s.virtual_loss, tbuf, sbuf,
               part_vals, part_idx, out_vals, out_idx)
        if C > 1:
            _merge_chunks(k, C, part_vals, part_idx, out_vals, out_idx)
        return TopK(out_vals, out_idx)

    def _descend(self, store: TreeStore, policy: Policy, num_paths: int) -> np.ndarray:
        s = store
        leaves = np.empty((s.batch_size, num_paths), dtype=np.int32)
        kernel = _pick(_descend_kernel, s.batch_size >= PARALLEL_MIN_TREES)
        kernel(int(policy), num_paths, SQRT_LOG_TABLE, s.visits, s.value_sum, s.prior, s.g,
               s.h, s.inflight, s.flags, s.first_child, s.num_children, s.exploration,
               s.virtual_loss, leaves)
        self._refresh(s, leaves)
        return leaves

    def _refresh(self, s: TreeStore, leaves: np.ndarray) -> None:
        kernel = _pick(_refresh_kernel, s.batch_size >= PARALLEL_MIN_TREES)
        kernel(leaves, SQRT_LOG_TABLE, s.visits, s.inflight, s.parent, s.first_child,
               s.num_children, s.parent_sqrt_log)

    def _expand(self, store: TreeStore, leaves: np.ndarray, k: np.ndarray, reward: np.ndarray,
                prior: np.ndarray, cost: np.ndarray, h: np.ndarray) -> np.ndarray:
        s = store
        first = np.empty(leaves.shape, dtype=np.int32)
        kernel = _pick(_expand_kernel, s.batch_size >= PARALLEL_MIN_TREES)
        kernel(leaves, k, reward, prior, cost, h, SQRT_LOG_TABLE, s.visits, s.value_sum,
               s.reward, s.prior, s.g, s.h, s.inflight, s.flags, s.parent, s.first_child,
               s.num_children, s.depth, s.parent_sqrt_log, s.num_nodes, first)
        return first

    def _backup(self, store: TreeStore, leaves: np.ndarray, values: np.ndarray,
                release: bool) -> None:
        s = store
        kernel = _pick(_backup_kernel, s.batch_size >= PARALLEL_MIN_TREES)
        kernel(leaves, np.ascontiguousarray(values, dtype=np.float64), release, s.visits,
               s.value_sum, s.reward, s.inflight, s.parent, s.discount)
        self._refresh(s, leaves)
