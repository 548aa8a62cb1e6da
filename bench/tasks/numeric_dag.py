"""Numeric DAG optimization, as in the Trace paper.

A problem is a seeded random DAG of scalar operations h(x) over a few float inputs
x. The goal is to minimize |h(x) - y*|, where y* = h(x*) for a hidden x*, so a
solution exists. Feedback comes two ways: text that says only whether the output
should be "larger" or "smaller" (what an LLM optimizer gets), and the numeric loss
(what gradient descent gets).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import Node, Parameter, cos, op, sin, tanh

UNARY = ("sin", "cos", "tanh", "square", "neg", "scale")
BINARY = ("add", "sub", "mul")
_UNARY_FN = {"sin": sin, "cos": cos, "tanh": tanh, "neg": lambda a: -a, "square": lambda a: a * a}


@op(backward=lambda g, out, a, b: (g * (1.0 if a > b else -1.0 if a < b else 0.0), None))
def abs_error(output: float, target: float) -> float:
    """|output - target|: how far the DAG's output is from the target."""
    return abs(output - target)


@dataclass(frozen=True)
class NumericDAG:
    """One problem: the operations, the start point, the hidden solution and target."""

    seed: int
    n_inputs: int
    ops: tuple[tuple[str, tuple[int, ...], float], ...]  # (op, argument indices, constant)
    x0: tuple[float, ...]
    x_star: tuple[float, ...]
    target: float = field(default=0.0)
    bounds: tuple[float, float] = (-3.0, 3.0)

    def parameters(self) -> list[Parameter]:
        """Fresh float parameters at the start point, within the problem's bounds."""
        return [Parameter(v, bounds=self.bounds, name=f"x{i}", description="an input of h(x)")
                for i, v in enumerate(self.x0)]

    def forward(self, xs: list[Any]) -> Any:
        """h(x), traced when `xs` are nodes."""
        vals: list[Any] = list(xs)
        for name, idx, c in self.ops:
            a = vals[idx[0]]
            if name in BINARY:
                b = vals[idx[1]]
                vals.append(a + b if name == "add" else a - b if name == "sub" else a * b)
            elif name == "scale":
                vals.append(a * c)
            else:
                vals.append(_UNARY_FN[name](a))
        return vals[-1]

    def loss(self, output: Any) -> Any:
        """|h(x) - y*| as a traced node with a gradient rule."""
        return abs_error(output, self.target)

    def feedback(self, output: Any, tol: float = 1e-3) -> str:
        """The text feedback: only the direction in which the output should move."""
        value = output.value if isinstance(output, Node) else output
        if abs(value - self.target) <= tol:
            return "correct"
        return "larger" if value < self.target else "smaller"


def generate(seed: int, n_inputs: int = 3, n_ops: int = 8) -> NumericDAG:
    """A random problem; every input influences the output (unused sinks are summed)."""
    rng = random.Random(seed)
    ops: list[tuple[str, tuple[int, ...], float]] = []
    n = n_inputs
    used: set[int] = set()
    for _ in range(n_ops):
        recent = list(range(max(0, n - 4), n))
        if rng.random() < 0.55:
            a, b = rng.choice(recent), rng.randrange(n)
            ops.append((rng.choice(BINARY), (a, b), 0.0))
            used.update((a, b))
        else:
            a = rng.choice(recent)
            ops.append((rng.choice(UNARY), (a,), round(rng.uniform(-2, 2), 3)))
            used.add(a)
        n += 1
    for i in sorted(set(range(n - 1)) - used):  # fold in anything nothing uses
        ops.append(("add", (n - 1, i), 0.0))
        n += 1
    x_star = tuple(round(rng.uniform(-2, 2), 3) for _ in range(n_inputs))
    x0 = tuple(round(rng.uniform(-2, 2), 3) for _ in range(n_inputs))
    dag = NumericDAG(seed, n_inputs, tuple(ops), x0, x_star)
    return NumericDAG(seed, n_inputs, tuple(ops), x0, x_star, target=float(dag.forward(list(x_star))))


def solve_with_adam(seed: int, *, max_steps: int = 300, lr: float = 0.05, tol: float = 1e-3) -> dict[str, float]:
    """Minimize |h(x) - y*| for problem `seed` with Adam on true gradients (no LLM).

    Returns the initial and final loss, the steps taken and whether the loss reached `tol`.
    """
    from undertow.engine import backward
    from undertow.optimizers import Adam

    dag = generate(seed)
    params = dag.parameters()
    opt = Adam(params, lr=lr)
    loss = dag.loss(dag.forward(params))
    initial, steps = loss.value, 0
    while loss.value > tol and steps < max_steps:
        backward(loss, 1.0, "numeric")
        opt.step()
        opt.zero_feedback()
        steps += 1
        loss = dag.loss(dag.forward(params))
    return {"initial_loss": initial, "final_loss": loss.value, "steps": steps, "solved": loss.value <= tol}
