"""Fast paths of OptoPrime's report rendering give what the general code gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.engine import Node, Parameter, backward, capture, op
from undertow.engine.llm import make_llm
from undertow.optimizers.opto import GraphView, OptoPrime


@op(trainable=True)
def scale(v, k):
    """Divides v by k."""
    return v / k

@op(trainable=True)
def blend(a, b, *, weight=0.5):
    """Weighted mean of a and b."""
    return a * weight + b * (1 - weight)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "mul_literal", "blend", "blend_kw", "scale", "scale_zero"]),
                          st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=12),
       st.sampled_from([8, 40, 500]))
def test_the_fast_call_line_is_the_general_one(steps, limit):
    """`_plain_call` (the usual call's line, built without the general path) gives
    exactly `_general_call`'s line wherever it gives one, over graphs with literals,
    keywords, trainable code and raised errors."""
    from undertow.optimizers.opto.report import _general_call, _plain_call

    blend.code.zero_feedback()  # the ops' code parameters outlive one example
    scale.code.zero_feedback()
    x = Parameter(2.0, name="x")
    y = Parameter(3.0, name="y")
    nodes = [x, y, Node(7.0, name="fixed")]
    errors = []
    for kind, i, j in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if kind == "add":
            nodes.append(a + b)
        elif kind == "mul_literal":
            nodes.append(a * 1.5)
        elif kind == "blend":
            nodes.append(capture(blend, a, b))
        elif kind == "blend_kw":
            nodes.append(capture(blend, a, b, weight=0.25))
        elif kind == "scale":
            nodes.append(capture(scale, a, b))
        else:
            errors.append(capture(scale, a, 0))  # raises: an error node, fed to nothing
    backward([nodes[-1], *errors], ["make it larger"] + ["it failed"] * len(errors))
    opt = OptoPrime([x, y, blend.code, scale.code], make_llm("sim", cache_dir=False))
    received = opt._by_name()
    view = GraphView.build([fb for n in received for fb in received[n]],
                           {id(opt.by_name[n]): n for n in received})
    fast = 0
    for n in view.calls:
        line = _plain_call(view, n)
        if line is not None:
            fast += 1
            assert line == _general_call(view, n, limit)
    if all(kind == "add" for kind, _, _ in steps):
        assert fast == len(view.calls)  # named arguments only: every line takes the fast path
