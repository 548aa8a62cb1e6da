"""Run tree_kernels.cu on CPU: g++ with cuda_shim.h, loaded with ctypes.

`shim_backend()` returns the CuPy backend's host code (grid sizes, merge passes)
driving the CUDA source compiled by g++, with NumPy arrays as device memory.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from undertow.optimizers.tree.backends.cupy_backend import (
    CudaSourceBackend,
    kernel_source,
)

SHIM = Path(__file__).with_name("cuda_shim.h")


def _ctype(arg: Any) -> Any:
    if isinstance(arg, np.ndarray):
        assert arg.flags["C_CONTIGUOUS"], "kernels need C-contiguous arrays"
        return ctypes.c_void_p(arg.ctypes.data)
    if isinstance(arg, np.int32):
        return ctypes.c_int(int(arg))
    if isinstance(arg, (np.float64, float)):
        return ctypes.c_double(float(arg))
    raise TypeError(f"unsupported kernel argument {type(arg)}")


class ShimLauncher:
    """Runs every (block, thread) of a launch in turn, as the CUDA grid would."""

    def __init__(self, library: Path) -> None:
        self._lib = ctypes.CDLL(str(library))

    def __call__(self, name: str, grid: int, block: int, args: tuple[Any, ...]) -> None:
        fn = getattr(self._lib, name)
        converted = [_ctype(a) for a in args]
        for b in range(grid):
            for t in range(block):
                self._lib.shim_set(b, t, block, grid)
                fn(*converted)


@cache
def compile_kernels() -> Path:
    """The CUDA source built as a shared library by g++ (once per session)."""
    if shutil.which("g++") is None:
        raise FileNotFoundError("g++ not found: apt-get install g++ to run the CPU check")
    out = Path(tempfile.mkdtemp(prefix="undertow-cuda-shim-"))
    src = out / "tree_kernels.cpp"
    src.write_text(kernel_source())
    lib = out / "tree_kernels.so"
    subprocess.run(["g++", "-O1", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off",
                    "-Wall", "-Werror", "-include", str(SHIM), str(src), "-o", str(lib)],
                   check=True, capture_output=True, text=True)
    return lib


def shim_backend() -> CudaSourceBackend:
    """The CUDA-source backend on CPU."""
    return CudaSourceBackend(ShimLauncher(compile_kernels()), np)
