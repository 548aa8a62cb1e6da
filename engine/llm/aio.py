"""Running coroutines from sync code, also from inside a running event loop.

`run_sync` hands the coroutine to one long-lived background event loop (a daemon
thread), so it works the same whether or not the caller's thread already runs a
loop, and async SDK clients (whose connections belong to one loop) are reused from
call to call instead of being rebuilt by a fresh `asyncio.run` each time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

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
            _loop, _thread = loop, thread
        return _loop


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
