"""A numeric-DAG model: the float inputs of a function h(x) as trainable parameters.

As in the Trace paper's numeric optimization task: a problem is a DAG of scalar
operations h(x) with a target y*, and the agent's job is to pick inputs x that make
h(x) reach y*. `DagModel` holds one `float` parameter per input (bounded, starting
where the problem says) and runs the problem's operations on them, so every operation
is traced: a text optimizer sees the computation, and numeric backward gives true
gradients of the loss |h(x) - y*|.

The problem is anything with `parameters()`, `forward(xs)`, `loss(output)` and
`feedback(output)`, such as `undertow.bench.tasks.numeric_dag.NumericDAG`:

    from undertow.agents import DagModel
    from undertow.bench.tasks.numeric_dag import generate

    model = DagModel(generate(seed=0))
    output, loss = model.forward()     # traced nodes
    model.feedback(output)             # "larger", "smaller" or "correct"
"""

from __future__ import annotations

from typing import Any, Protocol

from undertow.engine import Module, Node, Parameter


class Problem(Protocol):
    """A numeric DAG problem: its inputs, its function, its loss and its feedback."""

    def parameters(self) -> list[Parameter]: ...

    def forward(self, xs: list[Any]) -> Any: ...

    def loss(self, output: Any) -> Any: ...

    def feedback(self, output: Any) -> str: ...


class DagModel(Module):
    """The inputs x of a DAG problem as `float` parameters (`x0`, `x1`, ...).

    Args:
        problem: the DAG; its `parameters()` give the inputs' start values, bounds and
            descriptions.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        inputs = list(problem.parameters())
        if not inputs:
            raise ValueError("the problem has no inputs; a DagModel needs at least one float input")
        self._names: tuple[str, ...] = tuple(p.name for p in inputs)
        for p in inputs:
            if p.kind != "float":
                raise ValueError(f"input {p.name!r} is a {p.kind!r} parameter; DagModel trains floats")
            if not p.name.isidentifier() or hasattr(self, p.name):
                raise ValueError(f"input name {p.name!r} cannot be an attribute; name inputs x0, x1, ...")
            setattr(self, p.name, p)  # saved under its own name: {"x0": ..., "x1": ...}

    @property
    def inputs(self) -> list[Parameter]:
        """The input parameters in the problem's order."""
        return [getattr(self, n) for n in self._names]

    def output(self) -> Node:
        """h(x) at the current inputs, traced (its parents lead to every input)."""
        return self.problem.forward(self.inputs)

    def loss(self, output: Node | None = None) -> Node:
        """|h(x) - y*| as a traced node with a gradient rule (computes h(x) if not given)."""
        return self.problem.loss(self.output() if output is None else output)

    def forward(self) -> tuple[Node, Node]:
        """One traced pass: (output h(x), loss |h(x) - y*|)."""
        out = self.output()
        return out, self.loss(out)

    __call__ = forward

    def feedback(self, output: Node | float) -> str:
        """The problem's text feedback on an output: "larger", "smaller" or "correct"."""
        return self.problem.feedback(output)

    def value(self) -> float:
        """h(x) at the current inputs, untraced."""
        return float(self.problem.forward([p.value for p in self.inputs]))
