"""Random DAG builders shared by the engine's property tests."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from undertow.engine import Node, Parameter, sin, square, tanh

UNARY = {"sin": sin, "tanh": tanh, "square": square, "neg": lambda a: -a}
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}


@dataclass
class DagSpec:
    n_params: int
    ops: list[tuple[str, tuple[int, ...]]]  # (op name, indices of earlier nodes)
    outputs: list[int]


@st.composite
def dag_specs(draw, max_params: int = 4, max_ops: int = 14) -> DagSpec:
    n_params = draw(st.integers(1, max_params))
    ops = []
    for i in range(draw(st.integers(1, max_ops))):
        n_prev = n_params + i
        if draw(st.booleans()):
            ops.append((draw(st.sampled_from(sorted(UNARY))), (draw(st.integers(0, n_prev - 1)),)))
        else:
            a = draw(st.integers(0, n_prev - 1))
            b = draw(st.integers(0, n_prev - 1))
            ops.append((draw(st.sampled_from(sorted(BINARY))), (a, b)))
    total = n_params + len(ops)
    outputs = draw(st.lists(st.integers(n_params, total - 1), min_size=1, max_size=3, unique=True))
    return DagSpec(n_params, ops, outputs)


def build(spec: DagSpec, values: list[float]) -> tuple[list[Parameter], list[Node], list[Node]]:
    """Parameters, every node in creation order, and the output nodes."""
    params = [Parameter(float(v), name=f"x{i}") for i, v in enumerate(values)]
    nodes: list = list(params)
    for name, idx in spec.ops:
        args = [nodes[i] for i in idx]
        nodes.append(UNARY[name](*args) if name in UNARY else BINARY[name](*args))
    return params, nodes, [nodes[i] for i in spec.outputs]
