"""Exceptions of the engine. Each message names the problem and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from undertow.engine.node import ErrorNode


class UndertowError(Exception):
    """Base class of every error undertow raises on purpose."""


class InvalidValueError(UndertowError, ValueError):
    """A value does not satisfy a parameter's kind or constraints; the old value is kept."""

    def __init__(self, parameter: str, kind: str, problem: str, fix: str) -> None:
        self.parameter, self.kind, self.problem, self.fix = parameter, kind, problem, fix
        super().__init__(f"invalid value for {kind} parameter {parameter!r}: {problem}. {fix}")


class ExecutionError(UndertowError):
    """Traced code raised. `node` is the error node, which can be given feedback.

    The original exception is `exception` (also the `__cause__`); `node.source_line`
    is the line that failed.
    """

    def __init__(self, node: ErrorNode) -> None:
        self.node = node
        self.exception = node.exception
        super().__init__(node.value)


class HiddenDependencyError(UndertowError):
    """An op body read the value of a node it was not given, so the graph would miss an edge.

    Feedback flows only along recorded edges: a node read from a closure, a global or
    an attribute of a plain argument would never receive any.
    """

    def __init__(self, node: str, op: str) -> None:
        self.node, self.op = node, op
        super().__init__(
            f"op {op!r} read the value of node {node!r}, which it was not given as an argument, so the "
            f"graph has no edge from {node!r} and feedback would never reach it. Fix: pass {node!r} to "
            f"{op!r} as an argument (top level, or one level inside a list, tuple or dict), or decorate "
            f"{op!r} with @op(hidden=\"record\") to record such reads as extra parents"
        )


class GraphError(UndertowError):
    """A graph operation got outputs, feedback or options it cannot work with."""


class StateError(UndertowError):
    """A saved state (module or optimizer) cannot be loaded; nothing was changed."""


class GraphvizNotFoundError(UndertowError, RuntimeError):
    """`render()` needs graphviz's `dot` program."""
