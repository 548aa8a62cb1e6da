"""The optimizer contract, SGD and Adam."""

from __future__ import annotations

import json

import pytest

from undertow.engine import Module, Parameter, StateError, backward, sin
from undertow.optimizers import SGD, Adam, Optimizer, Proposal


def _loss(x, y):
    return (x - 1.5) ** 2 + (sin(y) - 0.25) ** 2


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, momentum=0.5)])
def test_optimizers_reduce_a_loss(make):
    x, y = Parameter(-1.0, name="x"), Parameter(0.0, name="y")
    opt = make([x, y])
    first = _loss(x, y).value
    for _ in range(150):
        loss = _loss(x, y)
        backward(loss, 1.0, "numeric")
        opt.step()
        opt.zero_feedback()
    assert _loss(x, y).value < first / 100
    assert abs(x.value - 1.5) < 0.05
    assert all(isinstance(p, Proposal) and p.accepted for p in opt.log)


def test_bounds_are_respected_and_clipping_is_logged():
    x = Parameter(0.0, bounds=(-0.5, 0.5), name="x")
    opt = SGD([x], lr=10.0)
    backward(x * 1.0, 1.0, "numeric")  # gradient 1 -> step to -10, clipped to -0.5
    (p,) = opt.step()
    assert x.value == -0.5 and p.accepted and "clipped" in p.reason


def test_parameters_without_gradient_are_left_alone():
    x, unused = Parameter(1.0, name="x"), Parameter(2.0, name="unused")
    opt = Adam([x, unused])
    backward(x * 2, 1.0, "numeric")
    opt.step()
    assert unused.value == 2.0 and [p.parameter for p in opt.log] == ["x"]


def test_wrong_kinds_and_empty_lists_are_clear_errors():
    with pytest.raises(TypeError, match="needs float parameters, got n \\(int\\)"):
        Adam([Parameter(3, name="n")])
    with pytest.raises(ValueError, match="at least one Parameter"):
        Adam([])


def test_rejected_proposals_are_logged_not_raised():
    class Guess(Optimizer):
        def step(self):
            out = [self.propose(p, "not a number", reason="try") for p in self.parameters]
            self.steps += 1
            return out

    x = Parameter(1.0, name="x")
    (p,) = Guess([x]).step()
    assert not p.accepted and "expected a number" in p.reason and x.value == 1.0


def test_state_dict_resumes_exactly():
    def run(opt, x, steps):
        for _ in range(steps):
            backward(_loss(x, Parameter(0.3)), 1.0, "numeric")
            opt.step()
            opt.zero_feedback()

    x1 = Parameter(-1.0, name="x")
    a = Adam([x1], lr=0.05)
    run(a, x1, 20)
    state = json.loads(json.dumps(a.state_dict()))  # survives JSON
    run(a, x1, 20)

    x2 = Parameter(7.0, name="x")
    b = Adam([x2], lr=0.05)
    b.load_state_dict(state)
    assert x2.value == state["parameters"]["x"] and b.steps == 20 and len(b.log) == 20
    run(b, x2, 20)
    assert x2.value == x1.value


def test_state_dict_errors_change_nothing():
    x = Parameter(1.0, bounds=(0, 2), name="x")
    opt = Adam([x])
    state = opt.state_dict()
    with pytest.raises(StateError, match="from optimizer 'SGD'"):
        opt.load_state_dict({**state, "optimizer": "SGD"})
    with pytest.raises(StateError, match="cannot restore 'x'"):
        opt.load_state_dict({**state, "parameters": {"x": 5.0}})
    assert x.value == 1.0


def test_optimizer_accepts_a_module_and_names_duplicates():
    class M(Module):
        def __init__(self):
            self.a = Parameter(1.0, name="w")
            self.b = Parameter(2.0, name="w")

    opt = Adam(M())
    assert sorted(opt.names.values()) == ["w", "w#1"]
