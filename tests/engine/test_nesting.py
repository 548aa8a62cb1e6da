"""Finding 1 of issue 12: an op called inside another op's body adds nothing to the graph.

The outer call must be one node whose parents are exactly the nodes it was given
(plus its own code parameter when trainable), whatever its body calls: other ops,
itself recursively, operators on values.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.engine import Node, Parameter, op, record


@op
def shout(x: str) -> str:
    return x.upper() + "!"


@op
def greet(x: str) -> str:
    return shout("hello, " + x)


@op
def countdown(n: int) -> int:
    return 0 if n <= 0 else 1 + countdown(n - 1)


def test_inner_op_call_is_not_a_parent() -> None:
    x = Parameter("bob", name="x")
    with record() as rec:
        y = greet(x)
    assert y.value == "HELLO, BOB!"
    assert y.parents == (x,)
    assert len(rec) == 1 and rec.nodes[0] is y


def test_recursive_op_is_one_node_with_its_inputs() -> None:
    n = Parameter(4, name="n")
    with record() as rec:
        y = countdown(n)
    assert y.value == 4 and y.parents == (n,)
    assert len(rec) == 1


def _build(tree: list[Any], counter: list[int]) -> Any:
    """An op whose body calls the ops built for its children, on plain values."""
    children = [_build(t, counter) for t in tree]
    counter[0] += 1

    def body(*xs: Any, **kw: Any) -> float:
        acc = float(sum(x if isinstance(x, float) else sum(x) for x in (*xs, *kw.values())))
        for child in children:
            acc = acc + child(acc, [1.0, acc], k=2.0)  # a list and a keyword, as the outer call
        return acc

    return op(name=f"op{counter[0]}")(body)


trees = st.recursive(st.just([]), lambda kids: st.lists(kids, max_size=3), max_leaves=12)
# how each picked value is passed: positionally, inside a list, or as a keyword
passing = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["arg", "list", "kw"])), min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(tree=trees, picks=passing)
def test_random_nestings_keep_exactly_the_given_parents(tree: list[Any], picks: list[tuple[int, str]]) -> None:
    pool: list[Any] = [Parameter(float(i), name=f"p{i}") for i in range(3)] + [Node(10.0), 2.0, 3.0]
    fn = _build(tree, [0])
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for i, (k, how) in enumerate(picks):
        if how == "arg":
            args.append(pool[k])
        elif how == "list":
            args.append([pool[k], 1.0])
        else:
            kwargs[f"k{i}"] = pool[k]
    with record() as rec:
        out = fn(*args, **kwargs)
    expected: list[Node] = []
    for a in [*args, *kwargs.values()]:
        for x in (a if isinstance(a, list) else [a]):
            if isinstance(x, Node) and all(x is not e for e in expected):
                expected.append(x)
    assert out.parents == tuple(expected)
    assert len(rec) == 1 and rec.nodes[0] is out
    assert not isinstance(out.value, Node)
