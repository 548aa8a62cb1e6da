"""Logging: every module logs under the `undertow.*` hierarchy of the stdlib `logging`.

The library itself only attaches a `NullHandler` (a library must not decide where
its logs go). Applications choose: their own `logging` setup, or
`configure_logging("info")`, which is what `undertow --log-level info ...` calls.
Loggers: `undertow.bench.runner` (runs and steps), `undertow.optimizers` (each
proposal, at debug), `undertow.engine.llm` (each LLM call, at debug; failures at
info), `undertow.callbacks` (a callback that raised).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

LEVELS = ("debug", "info", "warning", "error", "critical")
_HANDLER_NAME = "undertow-stderr"


def configure_logging(level: str | int = "warning", stream: TextIO | None = None) -> logging.Logger:
    """Send `undertow.*` records at `level` and above to `stream` (stderr); return the logger.

    Calling it again replaces the handler it added before (never stacks them).
    """
    if isinstance(level, str):
        if level.lower() not in LEVELS:
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
        level = getattr(logging, level.upper())
    logger = logging.getLogger("undertow")
    for h in list(logger.handlers):
        if h.get_name() == _HANDLER_NAME:
            logger.removeHandler(h)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    return logger


__all__ = ["LEVELS", "configure_logging"]
