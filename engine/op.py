"""Operators: a forward rule and, optionally, its local backward rule, side by side.

`Op(name, forward, backward)` is the unit the engine records: every operator node
points to one. `backward(grad_out, out, *args)` returns one local gradient per
positional argument (None where there is none), which the numeric propagator chains.
`apply` runs an operator on nodes or plain values and records the resulting node.
"""

from __future__ import annotations

import linecache
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from undertow.engine.context import STATE
from undertow.engine.errors import ExecutionError
from undertow.engine.node import ErrorNode, Node

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))

Backward = Callable[..., tuple[Any, ...]]

#: Filenames of compiled trainable code start with this; their frames always count
#: as the failing line (see `engine.code.compile_function`).
TRAINABLE_PREFIX = "<undertow-code"


class Op:
    """A named operator: what it computes (`forward`) and how gradients pass (`backward`).

    `doc` is shown to optimizers in reports; `code_files` are the filenames whose
    frames count as "inside" the operator when an exception is located.
    """

    __slots__ = ("backward", "code_files", "doc", "forward", "name")

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        backward: Backward | None = None,
        doc: str = "",
        code_files: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.forward = forward
        self.backward = backward
        self.doc = doc
        self.code_files = code_files

    def __repr__(self) -> str:
        return f"Op({self.name})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return apply(self, args, kwargs or None)


def apply1(op: Op, a: Any) -> Any:
    """`apply` for one argument (the hot path of unary operators)."""
    state = STATE.get()
    if isinstance(a, Node):
        if not state.enabled:
            return op.forward(a.value)  # inside an op body the read is checked
        try:
            out = op.forward(a._value)
        except Exception as exc:
            raise ExecutionError(error_node(op, (a,), None, (a,), exc)) from exc
        node = Node(out, (a,), op, (a,))
    else:
        return op.forward(a)
    if state.recorder is not None:
        state.recorder.nodes.append(node)
    return node


def apply2(op: Op, a: Any, b: Any) -> Any:
    """`apply` for two arguments (the hot path of binary operators)."""
    state = STATE.get()
    a_node = isinstance(a, Node)
    b_node = isinstance(b, Node)
    if not state.enabled:  # no_trace, or inside an op body (where the reads are checked)
        return op.forward(a.value if a_node else a, b.value if b_node else b)
    av = a._value if a_node else a
    bv = b._value if b_node else b
    if not (a_node or b_node):
        return op.forward(av, bv)
    parents = (a, b) if a_node and b_node else ((a,) if a_node else (b,))
    try:
        out = op.forward(av, bv)
    except Exception as exc:
        raise ExecutionError(error_node(op, (a, b), None, parents, exc)) from exc
    node = Node(out, parents, op, (a, b))
    if state.recorder is not None:
        state.recorder.nodes.append(node)
    return node


def apply(op: Op, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Any:
    """Run `op` on arguments that may be nodes; record and return the result node.

    Nodes may also sit one level deep inside list, tuple and dict arguments. With
    tracing off (see `no_trace`), or with no node among the arguments, the plain
    result is returned. An exception becomes an `ErrorNode`, raised inside an
    `ExecutionError`.
    """
    state = STATE.get()
    parents: list[Node] = []
    raw_args = [_unwrap_collect(a, parents) for a in args]
    raw_kwargs = {k: _unwrap_collect(v, parents) for k, v in kwargs.items()} if kwargs else {}
    if not state.enabled or not parents:
        return op.forward(*raw_args, **raw_kwargs)
    try:
        out = op.forward(*raw_args, **raw_kwargs)
    except Exception as exc:
        raise ExecutionError(error_node(op, args, kwargs, tuple(_dedup(parents)), exc)) from exc
    node = Node(out, tuple(_dedup(parents)), op, args, kwargs)
    if state.recorder is not None:
        state.recorder.nodes.append(node)
    return node


def make_node(op: Op, out: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None,
              parents: list[Node]) -> Node:
    """Record a node for a result computed outside `apply` (used by traced functions)."""
    node = Node(out, tuple(_dedup(parents)), op, args, kwargs)
    recorder = STATE.get().recorder
    if recorder is not None:
        recorder.nodes.append(node)
    return node


def unwrap_args(args: tuple[Any, ...], kwargs: dict[str, Any] | None,
                parents: list[Node]) -> tuple[list[Any], dict[str, Any]]:
    """Plain values of `args`/`kwargs` (nodes replaced, one level deep); nodes go to `parents`."""
    raw_args = [_unwrap_collect(a, parents) for a in args]
    raw_kwargs = {k: _unwrap_collect(v, parents) for k, v in kwargs.items()} if kwargs else {}
    return raw_args, raw_kwargs


def _unwrap_collect(x: Any, parents: list[Node]) -> Any:
    if isinstance(x, Node):
        parents.append(x)
        return x.value
    t = type(x)
    if t is list or t is tuple:
        if any(isinstance(i, Node) for i in x):
            return t(_unwrap_collect(i, parents) if isinstance(i, Node) else i for i in x)
        return x
    if t is dict:
        if any(isinstance(v, Node) for v in x.values()):
            return {k: (_unwrap_collect(v, parents) if isinstance(v, Node) else v) for k, v in x.items()}
        return x
    return x


def _dedup(nodes: list[Node]) -> list[Node]:
    if len(nodes) < 2:
        return nodes
    seen: set[int] = set()
    out = []
    for n in nodes:
        if id(n) not in seen:
            seen.add(id(n))
            out.append(n)
    return out


def error_node(op: Op, args: tuple[Any, ...], kwargs: dict[str, Any] | None,
               parents: tuple[Node, ...], exc: BaseException) -> ErrorNode:
    """Build the error node for `exc`, locating the line that failed."""
    filename, lineno, line = _failing_line(op, exc)
    node = ErrorNode(exc, parents, op, args, kwargs, source_line=line, lineno=lineno, filename=filename)
    recorder = STATE.get().recorder
    if recorder is not None:
        recorder.nodes.append(node)
    return node


def _failing_line(op: Op, exc: BaseException) -> tuple[str | None, int | None, str | None]:
    """The innermost line of the operator's own code in the traceback.

    For a traced function that is the line of its body that raised (also when the
    exception came from C code called on that line). For a built-in operator on
    nodes (`a / b`), it is the user's line that applied the operator.
    """
    if hasattr(exc, "location"):  # code run in another process (undertow.engine.sandbox.SandboxError)
        return exc.location or (None, None, None)
    if isinstance(exc, SyntaxError) and (exc.filename in op.code_files
                                         or str(exc.filename).startswith(TRAINABLE_PREFIX)):
        text = exc.text or linecache.getline(exc.filename, exc.lineno or 0)
        return exc.filename, exc.lineno, text.rstrip("\n") or None
    frames = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(frames):
        if fr.filename in op.code_files or fr.filename.startswith(TRAINABLE_PREFIX):
            return fr.filename, fr.lineno, fr.line
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _ENGINE_DIR:
        frame = frame.f_back
    if frame is None:
        return None, None, None
    summary = traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
    return summary.filename, summary.lineno, summary.line
