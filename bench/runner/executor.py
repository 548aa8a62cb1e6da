"""Where runs execute: a small interface over `concurrent.futures.Executor`.

The runner only calls `submit(fn, *args)` and `shutdown(...)`, and reads progress
from the run folder, never from the worker; so another executor (Ray's, a cluster
scheduler's) plugs in by implementing those two methods over a shared folder.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any


class InlineExecutor(Executor):
    """Runs each job at once in the calling process (workers=1, tests, debugging)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


def make_executor(workers: int) -> Executor:
    """Local processes for `workers` > 1 (forked, so start-up is cheap), else inline."""
    if workers <= 1:
        return InlineExecutor()
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


EXECUTORS = ("local", "ray")


def make_named_executor(kind: str, workers: int, *, address: str | None = None) -> Executor:
    """`local` (this machine's processes, see `make_executor`) or `ray` (a Ray cluster at
    `address`, or a local Ray instance with `workers` CPUs when no address is given)."""
    if kind == "local":
        if address:
            from undertow.bench.runner.errors import BenchError

            raise BenchError("--ray-address needs --executor ray")
        return make_executor(workers)
    if kind == "ray":
        from undertow.bench.runner.ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers)
    from undertow.bench.runner.errors import BenchError

    raise BenchError(f"unknown executor {kind!r}; use one of {', '.join(EXECUTORS)}")
