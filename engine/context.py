"""Per-context tracing state, kept in `contextvars`.

Threads start with the default state and asyncio tasks copy the state of the code
that created them, so each traces its own graph. There is no global registry of
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
    enabled: bool
    recorder: Recorder | None


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
    token = STATE.set(TraceState(STATE.get().enabled, recorder))
    try:
        yield recorder
    finally:
        STATE.reset(token)
