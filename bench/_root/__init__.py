"""undertow: optimize LLM agents from feedback.

The library lives in four subpackages: `undertow.engine` (graphs, tracing, feedback
propagation, LLM clients), `undertow.optimizers`, `undertow.agents` and
`undertow.bench`.
"""

import logging
from importlib.metadata import PackageNotFoundError, version

# a library leaves log output to the application (`undertow --log-level ...` or its own setup)
logging.getLogger("undertow").addHandler(logging.NullHandler())

try:
    __version__ = version("undertow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
