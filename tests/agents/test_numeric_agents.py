"""The numeric reference agents: DagModel (numeric DAG) and SignalController (traffic)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.agents import DagModel, SignalController
from undertow.bench.tasks import numeric_dag, traffic
from undertow.engine import (
    InvalidValueError,
    Parameter,
    StateError,
    backward,
    topological,
)


def _ancestors(node) -> set[int]:
    return {id(n) for n in topological([node])}


def test_dag_model_traces_output_and_loss_to_every_input():
    model = DagModel(numeric_dag.generate(3))
    out, loss = model.forward()
    for p in model.inputs:
        assert id(p) in _ancestors(out)
        assert id(p) in _ancestors(loss)
    dag = model.problem
    assert out.value == pytest.approx(dag.forward([p.value for p in model.inputs]))
    assert loss.value == pytest.approx(abs(out.value - dag.target))
    assert model.feedback(out) in ("larger", "smaller", "correct")


def test_dag_model_trains_with_adam_on_true_gradients():
    from undertow.optimizers import Adam

    model = DagModel(numeric_dag.generate(1))
    opt = Adam(model.parameters(), lr=0.05)
    before = model.forward()[1].value
    for _ in range(40):
        backward(model.forward()[1], 1.0, "numeric")
        opt.step()
        opt.zero_feedback()
    assert model.forward()[1].value < 0.5 * before


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(-50, 50, allow_nan=False))
def test_dag_model_inputs_stay_bounded(seed, value):
    model = DagModel(numeric_dag.generate(seed))
    p = model.inputs[0]
    low, high = model.problem.bounds
    if low <= value <= high:
        p.set(value)
        assert p.value == value
    else:
        with pytest.raises(InvalidValueError):
            p.set(value)
        assert low <= p.value <= high


def test_dag_model_save_load_round_trip(tmp_path):
    a = DagModel(numeric_dag.generate(5))
    a.x1.set(1.25)
    path = a.save(tmp_path / "dag.json")
    assert set(json.loads(path.read_text())["parameters"]) == {"x0", "x1", "x2"}
    b = DagModel(numeric_dag.generate(5))
    b.load(path)
    assert b.state_dict() == a.state_dict()
    assert b.value() == pytest.approx(a.value())


def test_dag_model_rejects_non_float_inputs():
    class IntProblem:
        def parameters(self):
            return [Parameter(3, bounds=(0, 9), name="n")]

    with pytest.raises(ValueError, match="float"):
        DagModel(IntProblem())  # type: ignore[arg-type]


def test_signal_controller_plan_is_traced_and_matches_the_model():
    scenario = traffic.generate(2)
    agent = SignalController(40, 20)
    node = agent.plan(scenario)
    assert id(agent.green_ns) in _ancestors(node) and id(agent.green_ew) in _ancestors(node)
    assert node.value == scenario.simulate(40, 20)
    assert [p.kind for p in agent.parameters()] == ["int", "int"]
    assert [p.name for p in agent.parameters()] == ["green_ns", "green_ew"]


@settings(max_examples=40, deadline=None)
@given(st.integers(-20, 200))
def test_signal_controller_greens_stay_in_bounds(value):
    agent = SignalController()
    if 5 <= value <= 90:
        agent.green_ew.set(value)
        assert agent.greens == (30, value)
    else:
        with pytest.raises(InvalidValueError):
            agent.green_ew.set(value)
        assert agent.greens == (30, 30)


def test_signal_controller_save_load_round_trip_and_bad_file(tmp_path):
    a = SignalController(55, 12)
    path = a.save(tmp_path / "signal.json")
    b = SignalController()
    b.load(path)
    assert b.greens == (55, 12)
    doc = json.loads(path.read_text())
    doc["parameters"]["green_ns"]["value"] = 500  # out of bounds: nothing changes
    path.write_text(json.dumps(doc))
    with pytest.raises(StateError, match="green_ns"):
        b.load(path)
    assert b.greens == (55, 12)


def test_signal_controller_rejects_bad_bounds():
    with pytest.raises(ValueError, match="bounds"):
        SignalController(bounds=(10, 5))
    with pytest.raises(InvalidValueError):
        SignalController(green_ns=200)
