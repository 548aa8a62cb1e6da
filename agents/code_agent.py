"""A code-writing agent: the body of a function is a trainable `code` parameter.

`CodeAgent(initial_source)` holds the source of one function as a `code`
parameter (its name and parameters are enforced); calling the agent runs the
current code on the arguments and records one node whose parents are the code and
the argument nodes. An exception becomes an error node with the failing line of the
generated code, which optimizers read as feedback.

By default the code runs in a sandboxed worker (`undertow.engine.sandbox.shared_pool()`:
CPU, memory and wall-clock limits, no network), so arguments and results must be plain
data. `executor="in-process"` opts in to running it in this process; any callable
`(source, function_name, args, kwargs) -> result` that raises on failure runs it
elsewhere; a `SandboxPool` runs it in that pool.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from undertow.engine import Module, Node, Parameter
from undertow.engine.code import compile_function
from undertow.engine.op import TRAINABLE_PREFIX, Op, apply

Executor = Callable[[str, str, tuple[Any, ...], dict[str, Any]], Any]


class CodeAgent(Module):
    """One trainable function.

    Args:
        source: the initial source, `def name(...):` plus its body.
        description: what the function must do (shown to optimizers).
        executor: where to run the code: "sandbox" (the shared pool, default),
            "in-process", a `SandboxPool`, or a callable.
    """

    def __init__(self, source: str, *, description: str = "",
                 executor: Executor | str | Any = "sandbox") -> None:
        match = re.search(r"^(?:async\s+)?def\s+(\w+)\s*\(", source, re.MULTILINE)
        if match is None:
            raise ValueError("CodeAgent needs the source of a function: it must contain `def name(...):`")
        self.function_name = match.group(1)
        self.code = Parameter(source, "code", name=f"{self.function_name}.code", description=description)
        if isinstance(executor, str) and executor not in ("sandbox", "in-process"):
            raise ValueError(f"executor must be 'sandbox', 'in-process', a SandboxPool or a callable; got {executor!r}")
        self.executor = executor
        self._compiled: tuple[int, Callable[..., Any]] | None = None
        self._op = Op(f"run {self.function_name}", self._run,
                      doc=f"runs the current code of {self.function_name}: {description}".strip(": "))

    def _function(self) -> Callable[..., Any]:
        if self._compiled is None or self._compiled[0] != self.code.version:
            filename = f"{TRAINABLE_PREFIX} {self.function_name} v{self.code.version}>"
            if self.executor == "in-process":
                fn = compile_function(self.code.value, self.function_name, {}, filename)
            else:
                from undertow.engine.sandbox import sandboxed, shared_pool

                pool = shared_pool() if self.executor == "sandbox" else self.executor
                fn = sandboxed(self.function_name, self.code.value, pool, filename=filename)
            self._compiled = (self.code.version, fn)
        return self._compiled[1]

    def _run(self, source: str, *args: Any, **kwargs: Any) -> Any:
        if callable(self.executor) and not hasattr(self.executor, "run"):
            return self.executor(source, self.function_name, args, kwargs)
        return self._function()(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Node:
        """Run the current code; the result (or `ExecutionError` with the error node)."""
        return apply(self._op, (self.code, *args), kwargs or None)
