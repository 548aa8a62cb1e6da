"""Per-context tracing state, kept in `contextvars`.

Threads start with the default state and asyncio tasks copy the state of the code
that created them, so each traces its own graph. While an op's body runs, the state
says so (`body`): operations inside it run on plain values, so an op stays one node
whatever it calls, and a read of a node the op was not given is caught. There is no global registry of
nodes: the optional `Recorder` below holds nodes only while the user holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from undertow.engine.node import Node


class Recorder:
    """Collects every node created while it is active (see `record()`).

    Useful to look at everything a run recorded, not only the ancestors of its
    outputs. It keeps the nodes alive for as long as the recorder itself lives.
    """

    __slots__ = ("nodes",)

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)


class TraceState(NamedTuple):
    """The tracing state of one context.

    `enabled`: operations on nodes are recorded. `recorder`: the active `Recorder`.
    While an op's body runs, `body` is the op's name and tracing is off; `start_id`
    is the first node id the body may create (an older node whose value the body
    reads was not passed to it: a hidden dependency), and `hidden` is None when such
    a read is an error, else the list collecting those nodes as extra parents (the
    op's `hidden="record"` option). One flat tuple, so entering a body costs one
    allocation.
    """

    enabled: bool
    recorder: Recorder | None
    body: str | None = None
    start_id: int = 0
    hidden: list[Node] | None = None


def read_in_body(state: TraceState, node: Node) -> None:
    """Called when an op body (`state.body`) reads `node`'s value: allow, record or refuse it."""
    if node.id >= state.start_id:
        return  # made inside the body itself
    hidden = state.hidden
    if hidden is not None:
        if not any(n is node for n in hidden):
            hidden.append(node)
        return
    from undertow.engine.errors import HiddenDependencyError

    raise HiddenDependencyError(node.label, state.body or "?")


STATE: ContextVar[TraceState] = ContextVar("undertow_trace_state", default=TraceState(True, None))


def is_tracing() -> bool:
    """Whether operations on nodes are being recorded in the current context."""
    return STATE.get().enabled


@contextmanager
def no_trace() -> Iterator[None]:
    """Run operations on plain values: nothing is recorded, results are raw values.

    Inside this block a traced function or an operator on nodes returns the plain
    result, as if the nodes were their values (like `torch.no_grad()`).
    """
    token = STATE.set(TraceState(False, STATE.get().recorder))
    try:
        yield
    finally:
        STATE.reset(token)


@contextmanager
def record() -> Iterator[Recorder]:
    """Collect every node created in this context into a `Recorder`."""
    recorder = Recorder()
    token = STATE.set(STATE.get()._replace(recorder=recorder))
    try:
        yield recorder
    finally:
        STATE.reset(token)
