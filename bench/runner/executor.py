"""Where runs execute: a small interface over `concurrent.futures.Executor`.

The runner only calls `submit(fn, *args)` and `shutdown(...)`, and reads progress
from the run folder, never from the worker; so another executor (Ray's, a cluster
scheduler's) plugs in by implementing those two methods over a shared folder.
"""

from __future__ import annotations

import multiprocessing
import os
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


def _die_with_parent(parent: int) -> None:
    """Worker initializer: SIGKILL this process when the runner dies (even by SIGKILL)."""
    from undertow.engine.sandbox.isolation import die_with_parent

    die_with_parent()
    if os.getppid() != parent:  # the runner died before the line above took effect
        os._exit(1)


def make_executor(workers: int) -> Executor:
    """Local processes for `workers` > 1 (forked, so start-up is cheap), else inline.

    The processes die with the runner (PR_SET_PDEATHSIG): a killed `undertow bench
    run` leaves none behind to keep advancing checkpoints beside a later resume.
    """
    if workers <= 1:
        return InlineExecutor()
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent,
                               initargs=(os.getpid(),))


def stop_now(pool: Executor) -> None:
    """Cancel the jobs not started and end the worker processes of a local pool now.

    Used on SIGINT: every run keeps its last atomic checkpoint, so a job cut short
    loses at most its unfinished step, which `resume` redoes.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


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
