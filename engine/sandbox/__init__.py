"""Safe execution of code parameters: sandboxed worker processes.

Code an optimizer proposes, or code loaded from a file, runs in a `SandboxPool`
worker at the strongest isolation level available (bubblewrap, own namespaces, own
uid, rlimits: see `isolation.py`), each call in a child of its own under CPU-time,
memory, file-size, process and wall-clock limits; every failure comes back as a
value. See docs/sandbox.md.
"""

from undertow.engine.sandbox.functions import (
    Executor,
    SandboxedFunction,
    sandbox_error_node,
    sandboxed,
    sandboxed_op,
)
from undertow.engine.sandbox.inprocess import InProcessRunner
from undertow.engine.sandbox.isolation import LEVELS, Isolation, available, choose
from undertow.engine.sandbox.limits import Limits
from undertow.engine.sandbox.pool import SandboxPool
from undertow.engine.sandbox.result import (
    SandboxClosedError,
    SandboxDataError,
    SandboxError,
    SandboxFailure,
    SandboxResult,
)
from undertow.engine.sandbox.shared import shared_pool
from undertow.engine.sandbox.wire import PLAIN_NAMES, plain_problem

__all__ = [
    "LEVELS", "PLAIN_NAMES", "Executor", "Isolation", "available", "choose", "InProcessRunner", "Limits", "SandboxClosedError", "SandboxDataError",
    "SandboxError", "SandboxFailure", "SandboxPool", "SandboxResult", "SandboxedFunction",
    "plain_problem", "sandbox_error_node", "sandboxed", "sandboxed_op", "shared_pool",
]
