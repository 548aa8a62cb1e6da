"""Resource limits of a sandbox pool, validated up front.

CPU time, memory, file size and process count are enforced by the kernel through
`resource.setrlimit` in each call's child (RLIMIT_CPU, counted in whole seconds,
RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC, soft = hard so the code cannot raise them);
the wall-clock timeout is enforced by the worker, which kills the call, with the
parent as a backstop. Network and filesystem isolation depend on the level (see
`isolation.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
