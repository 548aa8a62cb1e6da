"""`backward(outputs, feedback)`: send feedback from outputs to the parameters."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any

from undertow.engine.errors import GraphError
from undertow.engine.node import Node
from undertow.engine.propagators import NumericPropagator, Propagator, SubgraphPropagator

_BY_NAME: dict[str, type[Propagator]] = {"subgraph": SubgraphPropagator, "numeric": NumericPropagator}


def backward(
    outputs: Node | Sequence[Node],
    feedback: Any = None,
    propagator: Propagator | str = "subgraph",
) -> list[Node]:
    """Propagate one feedback per output back to the parameters that influenced it.

    Args:
        outputs: an output node, or a list of them (a minibatch needs no glue).
        feedback: for one output, its feedback; for a list, a list of the same
            length (text, a score, a dict... — whatever the propagator and the
            optimizer understand; numbers for the numeric propagator, default 1.0).
        propagator: a `Propagator` instance or the name of a built-in one
            (`"subgraph"`, `"numeric"`).

    Returns the parameters that received something. Feedback accumulates on them
    until their `zero_feedback()` (or the optimizer's).
    """
    if isinstance(outputs, Node):
        outputs, feedback = [outputs], [feedback]
    else:
        outputs = list(outputs)
        if feedback is None:
            feedback = [None] * len(outputs)
        elif isinstance(feedback, (str, bytes)) or not isinstance(feedback, Sequence):
            raise GraphError(
                f"got {len(outputs)} outputs but a single feedback; pass a list with one feedback per output"
            )
        feedback = list(feedback)
        if len(feedback) != len(outputs):
            raise GraphError(
                f"got {len(outputs)} outputs but {len(feedback)} feedback items; pass one feedback per output"
            )
    for o in outputs:
        if not isinstance(o, Node):
            raise GraphError(
                f"outputs must be nodes, got {type(o).__name__}; call traced functions on nodes "
                "(or Parameters) so their results are recorded"
            )
    if isinstance(propagator, str):
        if propagator not in _BY_NAME:
            raise GraphError(f"unknown propagator {propagator!r}; use one of {sorted(_BY_NAME)} or an instance")
        propagator = _BY_NAME[propagator]()
    # The walk allocates many small containers but creates no cycles: pausing the
    # cyclic collector keeps it from rescanning the whole graph (which made backward
    # superlinear on 10^5-node graphs).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return propagator.propagate(outputs, feedback)
    finally:
        if paused:
            gc.enable()
