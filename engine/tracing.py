"""The `@op` decorator: calling a decorated function on nodes records one node.

The recorded node's parents are the nodes among the call's arguments (also one
level deep inside lists, tuples and dicts), plus the function's own `code`
parameter when it is trainable. The function body runs on plain values, so it is a
single operator in the graph however much it does inside.

Inside the body, tracing is suspended: an op called there (the same op, for a
recursive one) or an operator applied there runs on plain values and adds nothing to
the graph, so the outer call stays one node whose parents are exactly its inputs.
A body that reads the value of a node it was not given (a global, a closure, an
attribute of a plain argument) raises `HiddenDependencyError`, because feedback
could never reach that node; `@op(hidden="record")` records such reads as extra
parents instead.

With `trainable=True` the function's source becomes a `code` parameter
(`fn.code`); when an optimizer changes it, the next call compiles and runs the new
code. Only the decorated function's own source runs in this process. Any other
value (proposed by an optimizer, loaded from a file) is untrusted and runs in the
sandbox (`undertow.engine.sandbox.shared_pool()`, or the `executor` given) unless
the user opts in to in-process execution with `executor="inprocess"`.
On a method, each instance (and each copy of one) owns its code parameter,
initialised from the class's source; `shared=True` keeps one parameter on the class
for every instance.
"""

from __future__ import annotations

import copy
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any, TypeVar, overload

from undertow.engine.code import compile_function, function_source
from undertow.engine.context import STATE, TraceState, read_in_body
from undertow.engine.errors import ExecutionError, HiddenDependencyError
from undertow.engine.node import Node, _ids
from undertow.engine.op import (
    TRAINABLE_PREFIX,
    Backward,
    Op,
    _dedup,
    _unwrap_collect,
    error_node,
    make_node,
    unwrap_args,
)
from undertow.engine.params import Parameter

_CONTAINERS = frozenset({list, tuple, dict})
_new_state = tuple.__new__  # builds a TraceState without NamedTuple's Python-level __new__

#: Instance attribute holding the per-instance copies of trainable methods.
METHODS_ATTR = "_undertow_methods"
HIDDEN_MODES = ("error", "record")
INPROCESS = "inprocess"  # executor= value that opts in to running untrusted code in this process

F = TypeVar("F", bound=Callable[..., Any])


class TracedFunction:
    """A function whose calls on nodes are recorded as one operator node each.

    Attributes:
        op: the `Op` recorded for each call (name, documentation, backward rule).
        code: the trainable `code` parameter, or None when the code is fixed.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        trainable: bool = False,
        backward: Backward | None = None,
        description: str | None = None,
        executor: Any = None,
        hidden: str = "error",
        shared: bool = False,
    ) -> None:
        if hidden not in HIDDEN_MODES:
            raise ValueError(f"hidden={hidden!r}: use 'error' (the default) or 'record'")
        functools.update_wrapper(self, fn)
        self.record_hidden = hidden == "record"
        self.shared = shared
        self._key: str | None = None  # set when the function is a method of a class
        self._fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        doc = description if description is not None else (inspect.getdoc(fn) or "")
        self.op = Op(name or fn.__qualname__, fn, backward, doc, frozenset({fn.__code__.co_filename}))
        self.code: Parameter | None = None
        self._compiled_version = 0
        if trainable:
            if fn.__code__.co_freevars:
                raise ValueError(
                    f"{fn.__qualname__} closes over local variables {fn.__code__.co_freevars}; "
                    "trainable code is recompiled from its source, so pass those values as "
                    "arguments or make them module globals"
                )
            self.code = Parameter(
                function_source(fn), "code", name=f"{fn.__qualname__}.code",
                description=f"Python source of {fn.__qualname__}; {doc}".strip("; "),
            )
            self._compiled_version = self.code.version
        self.executor = executor
        # The one source that may run in this process without an opt-in: the function's own.
        self._own_source = self.code.value if self.code is not None else None
        self._is_method = next(iter(inspect.signature(fn).parameters), None) in ("self", "cls")
        if executor is not None:
            if self.code is None:
                raise ValueError(f"{fn.__qualname__}: executor= runs a code parameter; add trainable=True")
            if isinstance(executor, str) and executor != INPROCESS:
                raise ValueError(f"{fn.__qualname__}: executor={executor!r}; pass an executor object "
                                 f"(e.g. a SandboxPool) or executor={INPROCESS!r} to run untrusted code here")
            if executor != INPROCESS:
                self._compiled_version = -1  # the first call builds the sandboxed forward

    def _current(self) -> Callable[..., Any]:
        code = self.code
        if code is not None and code.version != self._compiled_version:
            filename = f"{TRAINABLE_PREFIX} {self._fn.__qualname__} v{code.version}>"
            self.op.code_files = self.op.code_files | {filename}
            self._compiled_version = code.version
            if self.executor == INPROCESS or (self.executor is None and code._value == self._own_source):
                self.op.forward = compile_function(code._value, self._fn.__name__, self._fn.__globals__, filename)
            else:
                self.op.forward = self._sandboxed(code._value, filename)
        return self.op.forward

    def _sandboxed(self, source: str, filename: str) -> Callable[..., Any]:
        """`source` run by the executor (default: the shared sandbox pool), never in this process.

        A method's instance is not plain data and stays here: the sandboxed code gets
        None for `self`/`cls` (code that needs the instance needs executor="inprocess").
        """
        from undertow.engine.sandbox import sandboxed, shared_pool

        run = sandboxed(self._fn.__name__, source, self.executor if self.executor is not None else shared_pool(),
                        filename=filename)
        if not self._is_method:
            return run
        if self.is_async:
            async def amethod(instance: Any, *args: Any, **kwargs: Any) -> Any:
                return await run(None, *args, **kwargs)
            return amethod

        def method(instance: Any, *args: Any, **kwargs: Any) -> Any:
            return run(None, *args, **kwargs)
        return method

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Node], list[Any], dict[str, Any]]:
        parents: list[Node] = []
        raw_args, raw_kwargs = unwrap_args(args, kwargs, parents)
        if self.code is not None:
            parents.append(self.code)
        return parents, raw_args, raw_kwargs

    def _fail(self, args: tuple[Any, ...], kwargs: dict[str, Any], parents: list[Node],
              exc: Exception) -> ExecutionError:
        return ExecutionError(error_node(self.op, args, kwargs or None, tuple(parents), exc))

    def _finish(self, out: Any, args: tuple[Any, ...], kwargs: dict[str, Any], parents: list[Node],
                body: TraceState) -> Node:
        if isinstance(out, Node):  # the body returned a node: its value is the result
            read_in_body(body, out)  # refused (or recorded) unless the body made it
            out = out._value
        if body.hidden:
            parents.extend(body.hidden)
        return make_node(self.op, out, args, kwargs or None, parents)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_async:
            return self._acall(*args, **kwargs)
        state = STATE.get()
        if not state.enabled:  # no_trace, or inside another op's body: run on plain values
            raw_args, raw_kwargs = unwrap_args(args, kwargs, [])
            return self._current()(*raw_args, **raw_kwargs)
        # The hot path, inlined: unwrap arguments, call, record one node.
        parents: list[Node] = []
        raw = []
        for a in args:
            if isinstance(a, Node):
                parents.append(a)
                raw.append(a._value)
            elif type(a) in _CONTAINERS:
                raw.append(_unwrap_collect(a, parents))
            else:
                raw.append(a)
        if kwargs:
            raw_kwargs = {k: _unwrap_collect(v, parents) for k, v in kwargs.items()}
        op_ = self.op
        code = self.code
        if code is not None:
            parents.append(code)
            if code.version != self._compiled_version:
                try:
                    self._current()  # compile the new code (outside the body: it reads the parameter)
                except Exception as exc:
                    raise self._fail(args, kwargs, parents, exc) from exc
        fn = op_.forward
        recorder = state[1]
        # The body runs with tracing suspended (fields as in TraceState: enabled, recorder,
        # body, start_id, hidden).
        body = _new_state(TraceState, (False, recorder, op_.name, next(_ids),
                                       [] if self.record_hidden else None))
        token = STATE.set(body)
        try:
            try:
                out = fn(*raw, **raw_kwargs) if kwargs else fn(*raw)
            finally:
                STATE.reset(token)
        except HiddenDependencyError:
            raise
        except Exception as exc:
            raise self._fail(args, kwargs, parents, exc) from exc
        if isinstance(out, Node) or body[4]:
            return self._finish(out, args, kwargs, parents, body)
        node = Node(out, tuple(parents) if len(parents) < 2 else tuple(_dedup(parents)), op_, args,
                    kwargs or None)
        if recorder is not None:
            recorder.nodes.append(node)
        return node

    async def _acall(self, *args: Any, **kwargs: Any) -> Any:
        state = STATE.get()
        if not state.enabled:
            raw_args, raw_kwargs = unwrap_args(args, kwargs, [])
            return await self._current()(*raw_args, **raw_kwargs)
        parents, raw_args, raw_kwargs = self._prepare(args, kwargs)
        body = TraceState(False, state.recorder, self.op.name, next(_ids), [] if self.record_hidden else None)
        try:
            fn = self._current()
            token = STATE.set(body)
            try:
                out = await fn(*raw_args, **raw_kwargs)
            finally:
                STATE.reset(token)
        except HiddenDependencyError:
            raise
        except Exception as exc:
            raise self._fail(args, kwargs, parents, exc) from exc
        return self._finish(out, args, kwargs, parents, body)

    # -- methods: per-instance code parameters ----------------------------------
    def __set_name__(self, owner: type, name: str) -> None:
        """Defined in a class body: a trainable method, whose code each instance owns."""
        self._key = f"{owner.__module__}.{owner.__qualname__}.{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """Methods: bind the instance as a plain (untraced) first argument."""
        if instance is None:
            return self
        if self.code is not None and self._key is not None and not self.shared:
            return types.MethodType(self.for_instance(instance), instance)
        return types.MethodType(self, instance)

    def for_instance(self, instance: Any) -> TracedFunction:
        """The copy of this trainable method that `instance` owns (made on first use).

        The copy's code parameter starts as a copy of the class's (the method's source).
        With `shared=True`, or for an instance without a `__dict__`, it is this function.
        """
        if self.code is None or self._key is None or self.shared:
            return self
        attrs = getattr(instance, "__dict__", None)
        if attrs is None:
            return self
        store = attrs.get(METHODS_ATTR)
        if store is None:
            store = attrs.setdefault(METHODS_ATTR, {})  # setdefault: two threads agree on one
        own = store.get(self._key)
        if own is None:
            own = store.setdefault(self._key, self._clone(copy.deepcopy(self.code)))
        return own

    def _clone(self, code: Parameter | None) -> TracedFunction:
        new = object.__new__(TracedFunction)
        new.__dict__.update(self.__dict__)
        new._key = None
        new.code = code
        new.op = Op(self.op.name, self.op.forward, self.op.backward, self.op.doc, self.op.code_files)
        if code is None or code.version != self._compiled_version:
            new._compiled_version = -1  # compile the copy's own code on its first call
        return new

    def __copy__(self) -> TracedFunction:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> TracedFunction:
        """A copy owns a copy of the code parameter (a template in a class body is shared)."""
        if self._key is not None or self.code is None:
            return self
        new = self._clone(copy.deepcopy(self.code, memo))
        memo[id(self)] = new
        return new

    def __repr__(self) -> str:
        return f"<traced {'trainable ' if self.code is not None else ''}function {self.op.name}>"


@overload
def op(fn: F) -> F: ...
@overload
def op(*, name: str | None = None, trainable: bool = False, backward: Backward | None = None,
       description: str | None = None, executor: Any = None, hidden: str = "error",
       shared: bool = False) -> Callable[[F], F]: ...


def op(fn: Callable[..., Any] | None = None, *, name: str | None = None, trainable: bool = False,
       backward: Backward | None = None, description: str | None = None, executor: Any = None,
       hidden: str = "error", shared: bool = False) -> Any:
    """Make a function (sync or async, plain or method) a traced operator.

    Args:
        name: the operator's name in graphs and reports (default: the qualname).
        trainable: expose the function's source as a `code` parameter (`fn.code`).
        backward: a local backward rule `(g, out, *args) -> grads`, one per
            positional argument, so numeric gradients can pass through the call.
        description: documentation shown to optimizers (default: the docstring).
        executor: with trainable=True, where a code value other than the function's
            own source runs: an executor such as `undertow.engine.sandbox.SandboxPool`
            (arguments and results must be plain data; a failure becomes an error node
            at the failing line). Default: the process-wide sandbox pool. Pass
            "inprocess" to run such code in this process, with no isolation at all: it
            can then read your files and keys, use the network and kill this process;
            only do so for code you trust.
        hidden: what a read of a node the body was not given does: "error" (default,
            `HiddenDependencyError` naming the node) or "record" (the node becomes an
            extra parent of the call, so feedback reaches it).
        shared: on a trainable method, one code parameter on the class for every
            instance; by default each instance (and each copy) owns its own.

    Inside the body tracing is suspended: inner op calls and operators on nodes run
    on plain values, so the call is one node whose parents are its inputs.

    An exception raised inside becomes an `ErrorNode` (carrying the failing line),
    raised as `ExecutionError`; use `capture()` to get it as a node instead.
    """

    def wrap(f: Callable[..., Any]) -> TracedFunction:
        return TracedFunction(f, name=name, trainable=trainable, backward=backward, description=description,
                              executor=executor, hidden=hidden, shared=shared)

    return wrap(fn) if fn is not None else wrap


def capture(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Node:
    """Call `fn`; return its output node, or the error node if traced code raised.

    Handy in training loops: the error node gets feedback like any output.
    """
    try:
        out = fn(*args, **kwargs)
    except ExecutionError as exc:
        return exc.node
    return out if isinstance(out, Node) else Node(out)
