"""How a command treats Ctrl-C: the first interrupts it, later ones wait for its message.

Kept apart from the command modules so that the entry points can mark the process as
theirs (`OWNS_PROCESS`) without importing any sub-app: `undertow --help` loads those
only when asked (`lazy_cli`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Set by the process entry points (`undertow`, `python -m undertow.bench.runner`): the
#: command owns the process, which exits once it returns.
OWNS_PROCESS = False


@contextmanager
def interrupt_once() -> Iterator[None]:
    """While the body runs, the first SIGINT interrupts it as usual and later ones are
    ignored: after Ctrl-C the runner stops the workers, saves the ledger and prints how
    to resume, and a second Ctrl-C (or a `timeout` that signals the process group after
    the process) would cut that short and lose the message. The previous handler is back
    when the body ends, except after an interrupt in a command that owns its process
    (`OWNS_PROCESS`): that process is on its way out with status 130, and a late SIGINT
    would only break the interpreter's exit with a traceback (Ctrl-\\ still quits).
    Left alone where SIGINT is already ignored or handled by someone else (not Python's
    default), or off the main thread."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    hit = False

    def first(signum: int, frame: Any) -> None:
        nonlocal hit
        hit = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        if not (hit and OWNS_PROCESS):
            signal.signal(signal.SIGINT, signal.default_int_handler)
