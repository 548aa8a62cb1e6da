"""Nodes of a traced graph.

A `Node` holds a value and the nodes it was computed from (`parents`), plus the
operator (`op`) and the exact arguments of the call that made it (`args`,
`kwargs`), so that a report can show the call and a propagator can apply the
operator's local backward rule. Nodes point only to their parents: nothing keeps a
graph alive except references to its outputs.

Python operators on nodes are traced (arithmetic, indexing, `%` formatting);
comparisons are traced through methods (`eq`, `lt`, ...) because `==` must keep its
identity meaning for sets and dicts. Control flow on a node's value (`if node:`) is
not traced.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

_ids = itertools.count()


class Node:
    """A value in a traced computation, with the parents it was computed from."""

    __slots__ = ("_value", "parents", "op", "args", "kwargs", "id", "name", "__weakref__")

    def __init__(
        self,
        value: Any,
        parents: tuple[Node, ...] = (),
        op: Any = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self._value = value
        self.parents = parents
        self.op = op
        self.args = args
        self.kwargs = kwargs
        self.id = next(_ids)
        self.name = name

    @property
    def value(self) -> Any:
        """The node's value. Read inside an op body that was not given this node, it raises
        `HiddenDependencyError` (or records the edge, with `@op(hidden="record")`)."""
        state = _STATE_get()
        if state.body is not None:
            _read_in_body(state, self)
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        self._value = new

    def __copy__(self) -> Node:
        return self._detached(self._value)

    def __deepcopy__(self, memo: dict[int, Any]) -> Node:
        """A copy is a new leaf holding a copy of the value, detached from its history.

        Copying a node to keep its value must not copy (or keep alive) its whole
        ancestry: the copy has no parents and no operator, and a fresh id, like
        `Node(value)`. Parameters keep their kind, constraints and version.
        """
        import copy

        new = self._detached(copy.deepcopy(self._value, memo))
        memo[id(self)] = new
        return new

    def _detached(self, value: Any) -> Node:
        new = object.__new__(type(self))
        for klass in type(self).__mro__:
            for slot in getattr(klass, "__slots__", ()):
                if slot == "__weakref__" or not hasattr(self, slot):
                    continue
                v = getattr(self, slot) if slot != "_value" else value
                object.__setattr__(new, slot, list(v) if type(v) is list else v)
        new.parents, new.op, new.args, new.kwargs, new.id = (), None, (), None, next(_ids)
        return new

    # -- identity and display -------------------------------------------------
    @property
    def label(self) -> str:
        """A readable name for debugging: the given name, else `<op>:<id>` or `const:<id>`.

        `id` counts every node this process made, so an unnamed node's label depends
        on what ran before: nothing sent to an LLM or written to a file uses it.
        Those use `undertow.engine.graph.graph_labels`, numbered within one graph.
        """
        if self.name is not None:
            return self.name
        return f"{self.op.name if self.op is not None else 'const'}:{self.id}"

    @property
    def is_leaf(self) -> bool:
        return not self.parents

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label}, value={self._value!r})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Notebooks show the node's graph: SVG with graphviz, Mermaid otherwise."""
        from undertow.engine.notebook import graph_mimebundle

        return graph_mimebundle(self)

    def __bool__(self) -> bool:
        return bool(self.value)

    # -- traced Python operators (rules live in builtin_ops) ------------------
    def __add__(self, other: Any) -> Any:
        return _apply2(_b.ADD, self, other)

    def __radd__(self, other: Any) -> Any:
        return _apply2(_b.ADD, other, self)

    def __sub__(self, other: Any) -> Any:
        return _apply2(_b.SUB, self, other)

    def __rsub__(self, other: Any) -> Any:
        return _apply2(_b.SUB, other, self)

    def __mul__(self, other: Any) -> Any:
        return _apply2(_b.MUL, self, other)

    def __rmul__(self, other: Any) -> Any:
        return _apply2(_b.MUL, other, self)

    def __truediv__(self, other: Any) -> Any:
        return _apply2(_b.DIV, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _apply2(_b.DIV, other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _apply2(_b.FLOORDIV, self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _apply2(_b.FLOORDIV, other, self)

    def __mod__(self, other: Any) -> Any:
        return _apply2(_b.MOD, self, other)

    def __rmod__(self, other: Any) -> Any:
        return _apply2(_b.MOD, other, self)

    def __pow__(self, other: Any) -> Any:
        return _apply2(_b.POW, self, other)

    def __rpow__(self, other: Any) -> Any:
        return _apply2(_b.POW, other, self)

    def __neg__(self) -> Any:
        return _apply1(_b.NEG, self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return _apply1(_b.ABS, self)

    def __getitem__(self, key: Any) -> Any:
        return _apply2(_b.GETITEM, self, key)

    def __iter__(self) -> Iterator[Any]:
        """Iterate over a sequence value as traced items (`node[0]`, `node[1]`, ...)."""
        if not isinstance(self.value, (list, tuple, str)):
            raise TypeError(
                f"cannot iterate over a node whose value is a {type(self.value).__name__}; "
                "iterate over node.value to leave the loop untraced"
            )
        return (self[i] for i in range(len(self.value)))

    # -- traced comparisons and helpers as methods ----------------------------
    def eq(self, other: Any) -> Any:
        """Traced `==` (the `==` operator itself compares node identity)."""
        return _apply2(_b.EQ, self, other)

    def ne(self, other: Any) -> Any:
        return _apply2(_b.NE, self, other)

    def lt(self, other: Any) -> Any:
        return _apply2(_b.LT, self, other)

    def le(self, other: Any) -> Any:
        return _apply2(_b.LE, self, other)

    def gt(self, other: Any) -> Any:
        return _apply2(_b.GT, self, other)

    def ge(self, other: Any) -> Any:
        return _apply2(_b.GE, self, other)

    def len(self) -> Any:
        """Traced `len(value)` (`len(node)` must return a plain int)."""
        return _apply1(_b.LEN, self)

    def format(self, *args: Any, **kwargs: Any) -> Any:
        """Traced `str.format` on a string value: `template.format(name=node)`."""
        return _apply(_b.FORMAT, (self, *args), kwargs or None)


class ErrorNode(Node):
    """The result of traced code that raised: feedback can flow back from it.

    `value` is a one-line description (exception type, message and failing line);
    `exception` is the exception itself; `source_line`, `lineno` and `filename` locate
    the line that failed inside the traced function (or the caller's line for an
    operator on nodes).
    """

    __slots__ = ("exception", "source_line", "lineno", "filename")

    def __init__(
        self,
        exception: BaseException,
        parents: tuple[Node, ...],
        op: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        *,
        source_line: str | None,
        lineno: int | None,
        filename: str | None,
    ) -> None:
        where = f" (line {lineno}: {source_line.strip()})" if source_line else ""
        super().__init__(f"{type(exception).__name__}: {exception}{where}", parents, op, args, kwargs)
        self.exception = exception
        self.source_line = source_line
        self.lineno = lineno
        self.filename = filename


def unwrap(x: Any) -> Any:
    """The plain value of a node, or `x` itself."""
    return x.value if isinstance(x, Node) else x


from undertow.engine.context import STATE as _STATE  # noqa: E402
from undertow.engine.context import read_in_body as _read_in_body  # noqa: E402

_STATE_get = _STATE.get


# Late imports: the operator machinery needs the classes above.
from undertow.engine import builtin_ops as _b  # noqa: E402
from undertow.engine.op import apply as _apply  # noqa: E402
from undertow.engine.op import apply1 as _apply1  # noqa: E402
from undertow.engine.op import apply2 as _apply2  # noqa: E402
