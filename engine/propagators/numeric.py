"""True gradients through operators that declare a local derivative.

Reverse-mode accumulation over the ancestors of the outputs, in reverse
topological order: each operator's `backward(g, out, *args)` rule turns the
gradient on its result into gradients on its arguments. The feedback on each output
is the gradient of the objective with respect to that output (1.0 for a loss).
Gradients stop at operators without a backward rule; the parameters behind them get
no gradient (their `grad` stays None) and `blocked_by` names those operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from undertow.engine.errors import GraphError
from undertow.engine.graph import topological
from undertow.engine.node import Node
from undertow.engine.params import Parameter
from undertow.engine.propagators.base import Propagator


class NumericPropagator(Propagator):
    """Reverse-mode differentiation of numeric values."""

    name = "numeric"

    def __init__(self) -> None:
        self.blocked_by: set[str] = set()

    def propagate(self, outputs: Sequence[Node], feedback: Sequence[Any]) -> list[Node]:
        grads: dict[int, Any] = {}
        for out, f in zip(outputs, feedback):
            if f is None:
                f = 1.0
            if isinstance(f, bool) or not isinstance(f, (int, float)):
                raise GraphError(
                    f"the numeric propagator needs a number as feedback (d objective / d output) "
                    f"for {out.label}, got {type(f).__name__}; pass 1.0 to minimize a loss output, "
                    "or use the subgraph propagator for text feedback"
                )
            grads[id(out)] = grads.get(id(out), 0.0) + f
        order = topological(outputs)
        self.blocked_by = set()
        for node in reversed(order):
            g = grads.get(id(node))
            if g is None or node.op is None or not node.parents:
                continue
            rule = node.op.backward
            if rule is None or node.kwargs:
                self.blocked_by.add(node.op.name)
                continue
            args = node.args
            local = rule(g, node.value, *[a.value if isinstance(a, Node) else a for a in args])
            for a, ga in zip(args, local):
                if ga is not None and isinstance(a, Node):
                    grads[id(a)] = grads.get(id(a), 0.0) + ga
        reached = []
        for node in order:
            if isinstance(node, Parameter) and id(node) in grads:
                node.grad = (node.grad or 0.0) + grads[id(node)]
                reached.append(node)
        return reached
