"""Plugging the sandbox into traced code.

`sandboxed(fn_name, source, pool)` is a plain callable running the function in a
pool (failures raise `SandboxError`); the engine's `@op(trainable=True)` can use it
instead of compiling in-process. `sandboxed_op(source, pool)` is a complete traced
operator today: its source is a `code` parameter, each call on nodes records one
node, and a failure becomes an `ErrorNode` pointing at the failing line of the
code that ran in the worker.
"""

from __future__ import annotations

import ast
import linecache
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from undertow.engine.context import STATE
from undertow.engine.errors import ExecutionError
from undertow.engine.node import ErrorNode, Node
from undertow.engine.op import Op, make_node, unwrap_args
from undertow.engine.params import Parameter
from undertow.engine.sandbox.result import SandboxError, SandboxResult


class Executor(Protocol):
    """What runs source code: `SandboxPool` or, by explicit opt-in, `InProcessRunner`."""

    def run(self, source: str, function_name: str, args: Sequence[Any] = (),
            kwargs: Mapping[str, Any] | None = None, **options: Any) -> SandboxResult: ...

    async def arun(self, source: str, function_name: str, args: Sequence[Any] = (),
                   kwargs: Mapping[str, Any] | None = None, **options: Any) -> SandboxResult: ...


def _is_async(source: str, fn_name: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.AsyncFunctionDef) and n.name == fn_name for n in tree.body)


def sandboxed(fn_name: str, source: str, pool: Executor, *, filename: str | None = None,
              preamble: str = "") -> Callable[..., Any]:
    """A callable that runs `fn_name` from `source` in `pool` and returns its value.

    A failure (exception, syntax error, timeout, crash, limits) raises `SandboxError`;
    its `location` gives the failing line. For an `async def`, the callable is a
    coroutine function. The source is registered in `linecache` under `filename`
    so reports in this process can show it.
    """
    filename = filename or f"<sandbox {fn_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)

    if _is_async(source, fn_name):
        async def acall(*args: Any, **kwargs: Any) -> Any:
            res = await pool.arun(source, fn_name, args, kwargs, filename=filename, preamble=preamble)
            return res.unwrap()
        fn: Callable[..., Any] = acall
    else:
        def call(*args: Any, **kwargs: Any) -> Any:
            return pool.run(source, fn_name, args, kwargs, filename=filename, preamble=preamble).unwrap()
        fn = call
    fn.__name__ = fn.__qualname__ = fn_name
    fn.__doc__ = f"{fn_name} from a code value, run by {type(pool).__name__}"
    return fn


def sandbox_error_node(op: Op, args: tuple[Any, ...], kwargs: dict[str, Any] | None,
                       parents: tuple[Node, ...], exc: SandboxError) -> ErrorNode:
    """The error node of a failed sandboxed call, located at the failing line in the worker."""
    filename, lineno, line = exc.location or (exc.failure.filename, None, None)
    node = ErrorNode(exc, parents, op, args, kwargs, source_line=line, lineno=lineno, filename=filename)
    recorder = STATE.get().recorder
    if recorder is not None:
        recorder.nodes.append(node)
    return node


class SandboxedFunction:
    """A traced operator whose code is a `code` parameter run in a sandbox.

    Calls on nodes record one node whose parents are the node arguments and `code`;
    a failure raises `ExecutionError` carrying an `ErrorNode` (use `capture()` to get
    the node). When an optimizer changes `code`, the next call runs the new value.
    """

    def __init__(self, source: str, pool: Executor, *, name: str | None = None,
                 description: str = "", preamble: str = "") -> None:
        self.code = Parameter(source, "code", name=f"{name}.code" if name else None, description=description)
        self.fn_name = self.code.signature.split("(")[0].split()[-1]  # type: ignore[union-attr]
        self.code.name = self.code.name or f"{self.fn_name}.code"
        self.pool = pool
        self.preamble = preamble
        self.op = Op(name or self.fn_name, self._forward, None, description)
        self._cache: tuple[int, Callable[..., Any]] | None = None

    def _forward(self, *args: Any, **kwargs: Any) -> Any:
        version = self.code.version
        if self._cache is None or self._cache[0] != version:
            filename = f"<sandbox {self.fn_name} v{version}>"
            self.op.code_files = frozenset({filename})
            self._cache = (version, sandboxed(self.fn_name, self.code.value, self.pool, filename=filename,
                                              preamble=self.preamble))
        return self._cache[1](*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        parents: list[Node] = []
        raw_args, raw_kwargs = unwrap_args(args, kwargs or None, parents)
        if not STATE.get().enabled:
            return self._forward(*raw_args, **raw_kwargs)
        parents.append(self.code)
        try:
            out = self._forward(*raw_args, **raw_kwargs)
        except SandboxError as exc:
            raise ExecutionError(sandbox_error_node(self.op, args, kwargs or None, tuple(parents), exc)) from exc
        return make_node(self.op, out, args, kwargs or None, parents)

    def __repr__(self) -> str:
        return f"<sandboxed function {self.op.name} on {self.pool!r}>"


def sandboxed_op(source: str, pool: Executor, *, name: str | None = None, description: str = "",
                 preamble: str = "") -> SandboxedFunction:
    """A traced operator running the (trainable) function defined by `source` in `pool`."""
    return SandboxedFunction(source, pool, name=name, description=description, preamble=preamble)
