"""One process-wide sandbox pool for code that optimizers propose.

Tasks and agents that run proposed code (Battleship policies, code repair...) use
`shared_pool()` unless given a pool of their own: it starts on first use (two
workers, default limits), is rebuilt in a forked child (worker pipes do not survive
a fork), and closes at exit.
"""

from __future__ import annotations

import os
import threading

from undertow.engine.sandbox.pool import SandboxPool

_lock = threading.Lock()
_pool: SandboxPool | None = None
_owner_pid = 0


def shared_pool() -> SandboxPool:
    """The process-wide `SandboxPool`, started on first use."""
    global _pool, _owner_pid
    with _lock:
        if _pool is None or _owner_pid != os.getpid():
            _pool = SandboxPool(workers=2)
            _owner_pid = os.getpid()
        return _pool
