"""GPU kernels (CuPy ``RawModule`` compiled from ``tree_kernels.cu``).

The store stays on the device; each call uploads only its new inputs (leaves, values,
the children's rewards / priors / costs) and downloads nothing unless asked
(``to_host``). The host side here (grid sizes, the top-k merge passes) is written
against a *launcher* and an array module, so the very same code also runs the CUDA
source on CPU through a g++ shim in the tests (see docs/tree.md).
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Protocol

import numpy as np

from ..policies import SQRT_LOG_TABLE, Policy
from ..store import TreeStore
from .base import TopK, TreeBackend

KMAX = 32  #: largest k of `score` (a register list per GPU thread)
BLOCK = 256
NODES_PER_THREAD = 16  #: `score`: nodes per thread before one tree gets more threads
MAX_THREADS_PER_TREE = 1 << 16
MERGE_FANIN = 32


def kernel_source() -> str:
    """The CUDA C source of every kernel."""
    return resources.files(__package__).joinpath("tree_kernels.cu").read_text()


class Launcher(Protocol):
    """Runs kernel ``name`` over ``grid`` blocks of ``block`` threads with ``args``."""

    def __call__(self, name: str, grid: int, block: int, args: tuple[Any, ...]) -> None: ...


class CupyLauncher:
    """Compiles the source once with NVRTC (no FMA contraction: CPU-identical order)."""

    def __init__(self) -> None:
        import cupy as cp

        self._module = cp.RawModule(code=kernel_source(), options=("--fmad=false",))
        self._fns: dict[str, Any] = {}

    def __call__(self, name: str, grid: int, block: int, args: tuple[Any, ...]) -> None:
        fn = self._fns.get(name) or self._fns.setdefault(name, self._module.get_function(name))
        fn((grid,), (block,), args)


def _i(x: int) -> np.int32:
    return np.int32(x)


def _blocks(threads: int) -> int:
    return max(1, (threads + BLOCK - 1) // BLOCK)


class CudaSourceBackend(TreeBackend):
    """The kernels of ``tree_kernels.cu`` driven through any launcher and array module."""

    name = "cuda-source"

    def __init__(self, launcher: Launcher, xp: Any) -> None:
        self._launch = launcher
        self.xp = xp
        self._table = xp.asarray(SQRT_LOG_TABLE)  # uploaded once

    def _score(self, store: TreeStore, policy: Policy, k: int) -> TopK:
        if k > KMAX:
            raise ValueError(f"k={k} exceeds the GPU top-k limit {KMAX}; ask for fewer")
        xp, s = self.xp, store
        B, M = s.visits.shape
        T = min(max(1, -(-M // NODES_PER_THREAD)), MAX_THREADS_PER_TREE)
        vals = xp.empty((B * T, k), dtype=xp.float64)
        idx = xp.empty((B * T, k), dtype=xp.int32)
        self._launch("score_partial", _blocks(B * T), BLOCK, (
            _i(int(policy)), _i(k), _i(B), _i(M), _i(T), self._table, _i(len(self._table)),
            s.visits, s.value_sum, s.prior, s.g,
            s.h, s.inflight, s.flags, s.parent, s.parent_sqrt_log, s.num_nodes, s.exploration,
            s.virtual_loss, vals, idx))
        lists = T
        while lists > 1:  # merge MERGE_FANIN lists per thread until one per tree
            out_lists = -(-lists // MERGE_FANIN)
            ov = xp.empty((B * out_lists, k), dtype=xp.float64)
            oi = xp.empty((B * out_lists, k), dtype=xp.int32)
            self._launch("topk_merge", _blocks(B * out_lists), BLOCK,
                         (_i(k), _i(B), _i(lists), _i(MERGE_FANIN), vals, idx, ov, oi))
            vals, idx, lists = ov, oi, out_lists
        return TopK(vals.reshape(B, k), idx.reshape(B, k))

    def _descend(self, store: TreeStore, policy: Policy, num_paths: int) -> Any:
        s, xp = store, self.xp
        B, M = s.visits.shape
        leaves = xp.empty((B, num_paths), dtype=xp.int32)
        self._launch("descend", _blocks(B), BLOCK, (
            _i(int(policy)), _i(num_paths), _i(B), _i(M), self._table, _i(len(self._table)),
            s.visits, s.value_sum, s.prior, s.g,
            s.h, s.inflight, s.flags, s.first_child, s.num_children, s.exploration,
            s.virtual_loss, leaves))
        self._refresh(s, leaves)
        return leaves

    def _refresh(self, s: TreeStore, leaves: Any) -> None:
        B, M = s.visits.shape
        P = leaves.shape[1]
        self._launch("refresh_paths", _blocks(B * P), BLOCK, (
            _i(B), _i(M), _i(P), leaves, self._table, _i(len(self._table)), s.visits,
            s.inflight, s.parent, s.first_child, s.num_children, s.parent_sqrt_log))

    def _expand(self, store: TreeStore, leaves: Any, k: Any, reward: Any, prior: Any,
                cost: Any, h: Any) -> Any:
        s, xp = store, self.xp
        B, M = s.visits.shape
        P, K = leaves.shape[1], reward.shape[2]
        first = xp.empty(leaves.shape, dtype=xp.int32)
        self._launch("expand", _blocks(B), BLOCK, (
            _i(B), _i(M), _i(P), _i(K), leaves, k, reward, prior, cost, h, s.visits,
            s.value_sum, s.reward, s.prior, s.g, s.h, s.inflight, s.flags, s.parent,
            s.first_child, s.num_children, s.depth, self._table, _i(len(self._table)),
            s.parent_sqrt_log, s.num_nodes, first))
        return first

    def _backup(self, store: TreeStore, leaves: Any, values: Any, release: bool) -> None:
        s, xp = store, self.xp
        B, M = s.visits.shape
        P = leaves.shape[1]
        self._launch("backup", _blocks(B * P), BLOCK, (
            _i(B), _i(M), _i(P), leaves, xp.ascontiguousarray(values, dtype=xp.float64),
            _i(int(release)), s.visits, s.value_sum, s.reward, s.inflight, s.parent,
            s.discount))
        self._refresh(s, leaves)


class CupyBackend(CudaSourceBackend):
    """The GPU backend: store on the device, kernels compiled by NVRTC."""

    name = "cupy"

    def __init__(self) -> None:
        import cupy as cp

        super().__init__(CupyLauncher(), cp)

    def to_host(self, array: Any) -> np.ndarray:
        return self.xp.asnumpy(array)

    def synchronize(self) -> None:
        """Wait for queued kernels (for timing)."""
        self.xp.cuda.Device().synchronize()
