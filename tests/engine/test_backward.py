"""backward(): subgraph semantics against networkx, numeric gradients against finite differences."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.dags import build, dag_specs
from undertow.engine import (
    GraphError,
    Node,
    NumericPropagator,
    Parameter,
    backward,
    no_trace,
    op,
    to_networkx,
    topological,
)
from undertow.engine.graph import graph_labels


def _brute_force(params, outputs, feedback):
    """The reference: per parameter, networkx descendants ∩ ancestors(outputs) (quadratic)."""
    g = to_networkx(outputs)
    labels = graph_labels(topological(outputs))  # to_networkx keys nodes by these per-graph labels
    out_labels = {labels[id(o)] for o in outputs}
    anc = set().union(*(nx.ancestors(g, o) for o in out_labels))
    ref = {}
    for p in params:
        if id(p) not in labels:  # the parameter influenced no output
            continue
        lp = labels[id(p)]
        desc = nx.descendants(g, lp)
        nodes = {lp} | (desc & anc) | (desc & out_labels) | ({lp} & out_labels)
        hit = [k for k, o in enumerate(outputs) if labels[id(o)] in nodes]
        ref[lp] = (nodes, [outputs[k] for k in hit], [feedback[k] for k in hit])
    return ref, labels


@settings(max_examples=150, deadline=None)
@given(dag_specs(max_params=8, max_ops=40), st.data())
def test_each_parameter_gets_exactly_its_minimal_subgraph(spec, data):
    values = data.draw(st.lists(st.floats(-2, 2), min_size=spec.n_params, max_size=spec.n_params))
    params, nodes, outputs = build(spec, values)
    feedback = [f"feedback {i}" for i in range(len(outputs))]
    backward(outputs, feedback)
    ref, labels = _brute_force(params, outputs, feedback)
    for p in params:
        if labels.get(id(p)) not in ref:
            assert p.feedback == []
            continue
        expected, ref_outputs, ref_feedback = ref[labels[id(p)]]
        (fb,) = p.feedback
        got = [labels[id(n)] for n in fb.nodes]
        assert set(got) == expected and len(got) == len(expected)
        assert got[0] == labels[id(p)]
        # topological order: every parent inside the subgraph comes first
        pos = {label: i for i, label in enumerate(got)}
        for n in fb.nodes:
            for par in n.parents:
                if labels[id(par)] in pos:
                    assert pos[labels[id(par)]] < pos[labels[id(n)]]
        assert fb.outputs == ref_outputs
        assert fb.feedback == ref_feedback
    # the shared index's union of any set of parameters is the union of their subgraphs
    reached = [p for p in params if labels.get(id(p)) in ref]
    if reached:
        chosen = data.draw(st.lists(st.sampled_from(reached), min_size=1, unique_by=id))
        index = chosen[0].feedback[0].index
        union = [labels[id(n)] for n in index.union(chosen)]
        assert set(union) == set().union(*(ref[labels[id(p)]][0] for p in chosen))
        assert len(union) == len(set(union))
        hit = [index.outputs[k] for k in index.reached(chosen)]
        assert {id(o) for o in hit} == {id(o) for p in chosen for o in ref[labels[id(p)]][1]}


def _objective(spec, values, weights):
    with no_trace():
        _, _, outs = build(spec, values)
    return sum(w * (o.value if isinstance(o, Node) else o) for w, o in zip(weights, outs))


@given(dag_specs(), st.data())
def test_numeric_gradients_match_central_finite_differences(spec, data):
    values = data.draw(st.lists(st.floats(-1.5, 1.5), min_size=spec.n_params, max_size=spec.n_params))
    weights = data.draw(st.lists(st.floats(-2, 2), min_size=len(spec.outputs), max_size=len(spec.outputs)))
    params, _, outputs = build(spec, values)
    backward(outputs, weights, NumericPropagator())
    h = 1e-5
    for i, p in enumerate(params):
        up, down = list(values), list(values)
        up[i] += h
        down[i] -= h
        fd = (_objective(spec, up, weights) - _objective(spec, down, weights)) / (2 * h)
        got = p.grad if p.grad is not None else 0.0
        assert math.isclose(got, fd, rel_tol=1e-4, abs_tol=1e-5), (i, got, fd)


def test_gradient_accumulates_until_zeroed():
    x = Parameter(3.0, name="x")
    backward(x * x, 1.0, "numeric")
    backward(x * x, 1.0, "numeric")
    assert x.grad == 12.0
    x.zero_feedback()
    assert x.grad is None and x.feedback == []


def test_numeric_gradient_stops_at_ops_without_a_rule():
    @op
    def opaque(a):
        return a * 2

    x, y = Parameter(1.0, name="x"), Parameter(2.0, name="y")
    prop = NumericPropagator()
    backward(opaque(x) + y, 1.0, prop)
    assert x.grad is None and y.grad == 1.0 and "opaque" in "".join(prop.blocked_by)

    @op(backward=lambda g, out, a: (2 * g,))
    def doubled(a):
        return a * 2

    backward(doubled(x), 1.0, "numeric")
    assert x.grad == 2.0


def test_minibatch_feedback_goes_to_the_right_outputs():
    w = Parameter("prompt", name="w")
    other = Parameter("unused in out1", name="o")
    out0 = w + " a"
    out1 = (w + other)
    backward([out0, out1], ["bad", "good"])
    assert w.feedback[0].feedback == ["bad", "good"]
    assert other.feedback[0].outputs == [out1] and other.feedback[0].feedback == ["good"]


def test_backward_input_errors_are_clear():
    x = Parameter(1.0, name="x")
    y = x + 1
    with pytest.raises(GraphError, match="one feedback per output"):
        backward([y, y], "single")
    with pytest.raises(GraphError, match="2 outputs but 1 feedback"):
        backward([y, y], ["a"])
    with pytest.raises(GraphError, match="outputs must be nodes"):
        backward([3.0], [1.0])
    with pytest.raises(GraphError, match="needs a number"):
        backward(y, "text", "numeric")
    with pytest.raises(GraphError, match="unknown propagator"):
        backward(y, 1.0, "magic")


def test_backward_handles_a_very_deep_chain():
    x = Parameter(0.0, name="x")
    out = x
    for _ in range(20000):
        out = out + 1.0
    backward(out, "deep")
    assert len(x.feedback[0].nodes) == 20001
    backward(out, 1.0, "numeric")
    assert x.grad == 1.0
