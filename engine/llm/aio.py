"""Running coroutines from sync code, also from inside a running event loop.

`run_sync` hands the coroutine to one long-lived background event loop (a daemon
thread), so it works the same whether or not the caller's thread already runs a
loop, and async SDK clients (whose connections belong to one loop) are reused from
call to call instead of being rebuilt by a fresh `asyncio.run` each time.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")
V = TypeVar("V")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _lock:
        if _loop is None or not _thread or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="undertow-llm-loop",
                                      daemon=True)
            thread.start()
            if _loop is None:
                atexit.register(_shutdown_background_loop)
            _loop, _thread = loop, thread
        return _loop


def _shutdown_background_loop() -> None:
    """At exit: let the background loop close what lives on it (SDK connections)."""
    loop = _loop
    if loop is None or loop.is_closed() or not (_thread and _thread.is_alive()):
        return
    with contextlib.suppress(Exception):
        asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion from sync code and return its result.

    Safe inside a running event loop (the work runs on the background loop's
    thread while the caller waits). Interrupting the wait cancels the coroutine.
    """
    if threading.current_thread() is _thread:  # called from the background loop itself
        result: list[T] = []
        worker = threading.Thread(target=lambda: result.append(asyncio.run(coro)))
        worker.start()
        worker.join()
        return result[0]
    future = asyncio.run_coroutine_threadsafe(coro, _background_loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


class LoopLocal(Generic[V]):
    """One value per running event loop (async SDK clients, semaphores), made on first
    use and dropped, with `close` awaited, when the loop shuts down.

    Connections and semaphores belong to the loop that made them, so a client used
    from several loops (say `asyncio.run` twice) needs one of each per loop. The
    cleanup rides on the loop's async-generator shutdown, which `asyncio.run` and
    `asyncio.Runner` perform before closing the loop.
    """

    def __init__(self, factory: Callable[[], V],
                 close: Callable[[V], Awaitable[None]] | None = None) -> None:
        self._factory = factory
        self._close = close
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[V, Any]] = \
            weakref.WeakKeyDictionary()

    async def get(self) -> V:
        """This loop's value (created on first call)."""
        loop = asyncio.get_running_loop()
        entry = self._values.get(loop)
        if entry is None:
            value = self._factory()
            watcher = self._watch(loop, value)
            self._values[loop] = (value, watcher)  # the watcher must stay referenced
            await watcher.__anext__()
            return value
        return entry[0]

    async def _watch(self, loop: asyncio.AbstractEventLoop, value: V) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self._values.pop(loop, None)
            if self._close is not None:
                await self._close(value)

    def close_all(self, timeout: float = 5.0) -> None:
        """Close every loop's value now (from sync code, e.g. `LLM.close()`)."""
        for loop, (value, _) in list(self._values.items()):
            self._values.pop(loop, None)
            if self._close is None or loop.is_closed() or not loop.is_running():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:  # cannot block our own loop: close in the background
                loop.create_task(self._close(value))
                continue
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._close(value), loop).result(timeout)

    def values(self) -> list[V]:
        """The values of loops still alive."""
        return [v for v, _ in list(self._values.values())]
