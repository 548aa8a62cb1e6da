"""Parallel evaluation inside an optimizer step: run its independent jobs side by side.

A step of GEPA scores a parent and a child on a minibatch (one rollout per item), a step
of MCTS expands several leaves and scores their children, OptoPrime asks for several
candidates. Those jobs do not depend on one another, so they can go at once; a `Fanout`
says how many: `Fanout(1)` runs them one after another, `Fanout(4)` four at a time,
`Fanout()` (no width) all at once (the LLM client's `max_concurrency` still bounds the
requests in flight).

Results come back in the order of the jobs, and each job draws its randomness from its
own seed (never from a shared stream), so a step's outcome does not depend on the width:
the same seeds give the same results with 1 or 4 workers, only sooner. A width limits
each `gather`/`map` call on its own (a semaphore per call), so jobs that fan out again
(an MCTS expansion scoring its children) never wait on permits their parent holds.

Synchronous jobs (`map_sync`) go to threads, or to an `Executor` you give (for example
one shared by the optimizers of a run); the jobs must then be safe to run in threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Fanout:
    """At most `width` jobs of one step at once (None: no limit); see the module docstring.

    Args:
        width: jobs at once; 1 runs them in turn. None: all at once.
        executor: where `map_sync` runs synchronous jobs (default: a thread pool of `width`).
    """

    def __init__(self, width: int | None = None, *, executor: Executor | None = None) -> None:
        if width is not None and (not isinstance(width, int) or isinstance(width, bool) or width < 1):
            raise ValueError(f"a fan-out width is a whole number >= 1 (or None: no limit), got {width!r}")
        self.width = width
        self.executor = executor

    def __repr__(self) -> str:
        return f"Fanout(width={self.width})"

    async def gather(self, jobs: Sequence[Awaitable[R]]) -> list[R]:
        """Await `jobs` (coroutines, not yet started), at most `width` at once; results in order.

        With width 1 each job starts only when the one before it is done.
        """
        if not jobs:
            return []
        if self.width is None or self.width >= len(jobs):
            return list(await asyncio.gather(*jobs))
        if self.width == 1:
            return [await job for job in jobs]
        gate = asyncio.Semaphore(self.width)

        async def one(job: Awaitable[R]) -> R:
            async with gate:
                return await job

        return list(await asyncio.gather(*(one(j) for j in jobs)))

    async def map(self, fn: Callable[[T], Awaitable[R]], items: Iterable[T]) -> list[R]:
        """`[await fn(x) for x in items]`, at most `width` at once; results in order."""
        return await self.gather([fn(x) for x in items])

    def map_sync(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`[fn(x) for x in items]` for synchronous jobs, on threads or the given executor."""
        items = list(items)
        if len(items) <= 1 or self.width == 1:
            return [fn(x) for x in items]
        if self.executor is not None:
            return list(self.executor.map(fn, items))
        with ThreadPoolExecutor(max_workers=min(self.width or len(items), len(items))) as pool:
            return list(pool.map(fn, items))


def as_fanout(value: Fanout | int | None) -> Fanout | None:
    """A `Fanout` from a width (an int), a `Fanout`, or None (None: the optimizer's default)."""
    if value is None or isinstance(value, Fanout):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Fanout(value)
    raise TypeError(f"fanout must be a Fanout, a width (int) or None, got {type(value).__name__}")


async def per_item(fanout: Fanout, answer: Callable[[Sequence[Any]], Awaitable[list[R]]],
                   items: Sequence[Any]) -> list[R]:
    """`answer(items)` one item per job through `fanout` (results in item order)."""
    parts = await fanout.map(lambda it: answer([it]), items)
    return [r for part in parts for r in part]


__all__ = ["Fanout", "as_fanout", "per_item"]
