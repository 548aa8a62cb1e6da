"""The numeric DAG task and the demo's optimizer loop."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from undertow.bench.tasks.numeric_dag import generate, solve_with_adam
from undertow.engine import Parameter, backward, no_trace, to_networkx


@given(st.integers(0, 10_000))
def test_problems_are_deterministic_and_solvable(seed):
    a, b = generate(seed), generate(seed)
    assert a == b
    with no_trace():
        assert abs(a.forward(list(a.x_star)) - a.target) < 1e-9
    params = a.parameters()
    out = a.forward(params)
    g = to_networkx(out)
    for p in params:  # every input influences the output
        assert p.label in g


@given(st.integers(0, 10_000))
def test_text_feedback_gives_only_the_direction(seed):
    dag = generate(seed)
    out = dag.forward(dag.parameters())
    fb = dag.feedback(out)
    assert fb in {"larger", "smaller", "correct"}
    if fb != "correct":
        assert (fb == "larger") == (out.value < dag.target)


def test_loss_gradient_points_downhill():
    dag = generate(3)
    params = dag.parameters()
    loss = dag.loss(dag.forward(params))
    backward(loss, 1.0, "numeric")
    step = 1e-4
    with no_trace():
        moved = [Parameter(p.value - step * (p.grad or 0.0), name=p.label) for p in params]
        assert dag.loss(dag.forward(moved)) <= loss.value


def test_adam_solves_problems_given_enough_steps():
    results = [solve_with_adam(seed) for seed in range(5)]
    assert all(r["solved"] for r in results)
    assert all(r["final_loss"] < r["initial_loss"] or r["initial_loss"] <= 1e-3 for r in results)
