"""undertow: optimize LLM agents from feedback.

The library lives in four subpackages: `undertow.engine` (graphs, tracing, feedback
propagation, LLM clients), `undertow.optimizers`, `undertow.agents` and
`undertow.bench`.
"""

import logging
from typing import Any

# a library leaves log output to the application (`undertow --log-level ...` or its own setup)
logging.getLogger("undertow").addHandler(logging.NullHandler())

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """`__version__`, read from the installed metadata on first use (importing
    importlib.metadata costs start-up time that `undertow --help` does not need)."""
    if name != "__version__":
        raise AttributeError(f"module 'undertow' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("undertow")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
