"""One process-wide sandbox pool for code that optimizers propose.

Tasks and agents that run proposed code (Battleship policies, code repair...) use
`shared_pool()` unless given a pool of their own: it starts on first use (two
workers, default limits, the undertow package readable so that drivers can import
it), is rebuilt in a forked child (worker pipes do not survive a fork), and closes
at exit.
"""

from __future__ import annotations

import os
import threading

from undertow.engine.sandbox.pool import SandboxPool

_lock = threading.Lock()
_pool: SandboxPool | None = None
_owner_pid = 0
_preload: list[str] = []


def preload_in_shared_pool(module: str) -> None:
    """Have the shared pool's workers import `module` (trusted code that sandboxed
    drivers use) once at start, instead of every call importing it. Call it before the
    pool's first use (a task module does so at import); later it applies to the
    workers started after it."""
    with _lock:
        if module not in _preload:
            _preload.append(module)
        if _pool is not None:
            _pool._settings["preload"] = list(_preload)


def _package_dirs() -> list[str]:
    """Where the `undertow` package and its sub-packages live (an editable install maps
    them to several folders), so that sandboxed drivers can import them, read-only."""
    import importlib.util

    import undertow

    dirs = set(undertow.__path__)
    for layer in ("engine", "optimizers", "agents", "bench"):  # the package's layers
        spec = importlib.util.find_spec(f"undertow.{layer}")
        if spec is not None and spec.submodule_search_locations:
            dirs.update(spec.submodule_search_locations)
    return sorted(dirs)


def shared_pool() -> SandboxPool:
    """The process-wide `SandboxPool`, started on first use."""
    global _pool, _owner_pid
    with _lock:
        if _pool is None or _owner_pid != os.getpid():
            _pool = SandboxPool(workers=2, read_only_paths=_package_dirs(), preload=_preload)
            _owner_pid = os.getpid()
        return _pool
