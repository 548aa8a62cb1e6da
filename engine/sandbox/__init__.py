"""Safe execution of code parameters: sandboxed worker processes.

Code an optimizer proposes runs in a `SandboxPool` worker (CPU-time, memory, file
size and wall-clock limits, no network, a minimal environment), and every failure
comes back as a value. See docs/sandbox.md.
"""

from undertow.engine.sandbox.functions import (
    Executor,
    SandboxedFunction,
    sandbox_error_node,
    sandboxed,
    sandboxed_op,
)
from undertow.engine.sandbox.inprocess import InProcessRunner
from undertow.engine.sandbox.limits import Limits, namespace_available
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
    "PLAIN_NAMES", "Executor", "InProcessRunner", "Limits", "SandboxClosedError", "SandboxDataError",
    "SandboxError", "SandboxFailure", "SandboxPool", "SandboxResult", "SandboxedFunction", "namespace_available",
    "plain_problem", "sandbox_error_node", "sandboxed", "sandboxed_op", "shared_pool",
]
