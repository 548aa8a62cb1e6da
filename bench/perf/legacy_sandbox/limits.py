"""Resource limits of a sandbox pool, validated up front, and the network options.

CPU time and memory are enforced by the kernel through `resource.setrlimit` in the
worker (RLIMIT_CPU, counted in whole seconds, and RLIMIT_AS, the address space);
the wall-clock timeout is enforced by the parent, which kills the worker. Network
access is blocked by a guard inside Python (socket entry points raise) and, where
the system allows unprivileged user namespaces, also by running the worker in an
empty network namespace (`unshare --net`).
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
from dataclasses import dataclass

NETWORK_MODES = ("auto", "guard", "namespace")


@dataclass(frozen=True)
class Limits:
    """Per-call and per-worker limits.

    Attributes:
        cpu_seconds: CPU time one call may use (rounded up to whole seconds by the kernel).
        memory_mb: address space of a worker process, interpreter included (about
            30 MB); an allocation beyond it raises MemoryError inside the call.
        timeout_s: wall-clock time one call may take before the worker is killed.
        file_mb: the largest file a call may write.
    """

    cpu_seconds: float = 5.0
    memory_mb: int = 512
    timeout_s: float = 10.0
    file_mb: int = 64

    def __post_init__(self) -> None:
        for name, low in (("cpu_seconds", 0.0), ("timeout_s", 0.0), ("memory_mb", 64), ("file_mb", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise ValueError(f"{name}={value!r} is not a number; pass a number of "
                                 f"{'seconds' if name.endswith('s') else 'megabytes'}")
            if low == 0.0 and value <= 0:
                raise ValueError(f"{name}={value!r} must be positive")
            if value < low:
                raise ValueError(f"{name}={value!r} is too small; the interpreter alone needs "
                                 f"about 30 MB, so pass at least {low}" if name == "memory_mb"
                                 else f"{name}={value!r} is too small; pass at least {low}")


@functools.lru_cache(maxsize=1)
def namespace_available() -> bool:
    """Whether `unshare --net --map-root-user` works here (probed once, cached)."""
    exe = shutil.which("unshare")
    if exe is None:
        return False
    try:
        done = subprocess.run([exe, "--net", "--map-root-user", "true"], check=False,
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def network_prefix(mode: str) -> list[str]:
    """The command prefix that isolates the network for `mode` (empty for the guard alone)."""
    if mode not in NETWORK_MODES:
        raise ValueError(f"network={mode!r} is not one of {', '.join(NETWORK_MODES)}")
    if mode == "guard":
        return []
    if namespace_available():
        return [shutil.which("unshare") or "unshare", "--net", "--map-root-user"]
    if mode == "namespace":
        raise RuntimeError("network='namespace' needs `unshare --net --map-root-user` (util-linux and "
                           "unprivileged user namespaces); use network='auto' to fall back to the guard")
    return []
