"""Tracing: operator nodes, decorated functions, methods, async, switches, errors."""

from __future__ import annotations

import asyncio
import gc
import math
import threading
import weakref

import pytest

from undertow.engine import (
    ErrorNode,
    ExecutionError,
    Node,
    Parameter,
    capture,
    no_trace,
    op,
    record,
    sqrt,
)


@op
def add(a, b):
    """Adds two numbers."""
    return a + b


@op
def divide(a, b):
    q = a / b
    return q


@op
def join_all(*parts, sep=" "):
    return sep.join(parts)


@op
def root(x):
    return math.sqrt(x)  # raises ValueError inside C code for x < 0


def test_python_operators_record_nodes_with_parents():
    a, b = Parameter(2.0, name="a"), Node(5.0)
    c = a * b + 1
    assert isinstance(c, Node) and c.value == 11.0
    mul = c.parents[0]
    assert mul.op.name == "mul" and mul.parents == (a, b)
    assert (a - b).value == -3.0 and (b / a).value == 2.5 and (a ** 2).value == 4.0
    assert (-a).value == -2.0 and abs(Node(-3)).value == 3
    assert (1 - a).parents == (a,) and (1 - a).value == -1.0


def test_comparisons_are_methods_and_eq_keeps_identity():
    a, b = Node(1), Node(1)
    assert a.eq(b).value is True and a.lt(b).value is False and a.le(b).parents == (a, b)
    assert a != b and len({a, b}) == 2


def test_indexing_iteration_and_formatting_are_traced():
    xs = Node([10, 20, 30])
    second = xs[1]
    assert second.value == 20 and second.parents == (xs,)
    assert [n.value for n in xs] == [10, 20, 30]
    name = Parameter("Ada", name="who")
    greeting = Node("Hello, {name}!").format(name=name)
    assert greeting.value == "Hello, Ada!" and name in greeting.parents
    pct = Node("%s items") % Node(3)
    assert pct.value == "3 items"
    assert xs.len().value == 3
    with pytest.raises(TypeError, match="iterate over node.value"):
        list(Node(5))


def test_decorated_function_records_one_node_with_inputs_as_parents():
    x = Parameter(1.0, name="x")
    out = add(x, 2.0)
    assert out.value == 3.0 and out.parents == (x,) and out.op.name == "add"
    assert out.op.doc == "Adds two numbers."
    both = add(x, x)
    assert both.parents == (x,)  # one edge per distinct parent


def test_varargs_kwargs_and_nested_containers():
    a, b = Parameter("hello", name="a"), Parameter("world", name="b")
    out = join_all(a, "there", b, sep=Node("-"))
    assert out.value == "hello-there-world"
    assert set(map(id, out.parents)) >= {id(a), id(b)}

    @op
    def total(items, weights):
        return sum(i * weights[k] for k, i in enumerate(items))

    w = Parameter({"0": 1}, kind="json", name="w")  # dict value, unused keys fine
    res = total([Node(1), Node(2)], {0: 3, 1: Node(4)})
    assert res.value == 1 * 3 + 2 * 4 and len(res.parents) == 3
    assert w.value == {"0": 1}


def test_methods_bind_self_as_a_constant():
    class Agent:
        def __init__(self):
            self.scale = 3

        @op
        def act(self, x):
            return x * self.scale

    x = Parameter(2.0, name="x")
    out = Agent().act(x)
    assert out.value == 6.0 and out.parents == (x,)


def test_async_functions_are_traced():
    @op
    async def slow_double(x):
        await asyncio.sleep(0)
        return 2 * x

    x = Parameter(4.0, name="x")
    out = asyncio.run(slow_double(x))
    assert out.value == 8.0 and out.parents == (x,)


def test_no_trace_returns_plain_values():
    x = Parameter(1.0, name="x")
    with no_trace():
        assert add(x, 1.0) == 2.0
        assert x * 2 == 2.0
    assert isinstance(add(x, 1.0), Node)


def test_record_collects_nodes_of_this_context_only():
    x = Parameter(1.0, name="x")
    with record() as rec:
        y = add(x, 1.0) * 3
    assert y in rec.nodes and len(rec) == 2
    z = add(x, 5.0)
    assert z not in rec.nodes


def test_threads_trace_separate_graphs():
    results: dict[int, tuple[list, Node]] = {}
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        p = Parameter(float(i), name=f"p{i}")
        with record() as rec:
            barrier.wait()
            out = p
            for _ in range(200):
                out = add(out, 1.0)
        results[i] = (rec.nodes, out, p)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (nodes, out, p) in results.items():
        assert len(nodes) == 200
        assert out.value == i + 200.0
        others = {id(n) for j, (ns, _, _) in results.items() if j != i for n in ns}
        assert not others & {id(n) for n in nodes}


def test_asyncio_tasks_trace_separate_graphs():
    @op
    async def step(x):
        await asyncio.sleep(0)
        return x + 1

    async def run(i):
        with record() as rec:
            out = Parameter(0.0, name=f"t{i}")
            for _ in range(50):
                out = await step(out)
        return rec.nodes, out

    async def main():
        return await asyncio.gather(*(run(i) for i in range(5)))

    outs = asyncio.run(main())
    ids = [{id(n) for n in nodes} for nodes, _ in outs]
    for i, (nodes, out) in enumerate(outs):
        assert len(nodes) == 50 and out.value == 50.0
        for j in range(len(outs)):
            if j != i:
                assert not ids[i] & ids[j]


def test_graph_is_freed_with_its_outputs():
    x = Parameter(1.0, name="x")
    out = x
    for _ in range(1000):
        out = add(out, 1.0) * 1.0
    first = weakref.ref(out.parents[0])
    out_ref = weakref.ref(out)
    del out
    gc.collect()
    assert out_ref() is None and first() is None
    assert x.value == 1.0  # parameters live on with their owner


def test_exception_becomes_error_node_with_failing_line():
    x = Parameter(1.0, name="x")
    with pytest.raises(ExecutionError) as info:
        divide(x, 0.0)
    node = info.value.node
    assert isinstance(node, ErrorNode) and node.parents == (x,)
    assert isinstance(info.value.exception, ZeroDivisionError)
    assert node.source_line.strip() == "q = a / b"
    assert "ZeroDivisionError" in node.value and "q = a / b" in node.value
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_exception_from_c_code_points_at_the_calling_line():
    node = capture(root, Parameter(-1.0, name="x"))
    assert isinstance(node, ErrorNode) and isinstance(node.exception, ValueError)
    assert "math.sqrt(x)" in node.source_line
    builtin = capture(lambda: sqrt(Parameter(-4.0, name="y")))
    assert isinstance(builtin, ErrorNode) and "sqrt(Parameter" in builtin.source_line


def test_operator_on_nodes_error_points_at_user_line():
    a = Parameter(1.0, name="a")
    with pytest.raises(ExecutionError) as info:
        a / 0  # the failing line
    assert "the failing line" in info.value.node.source_line


def test_capture_returns_output_or_error_node():
    x = Parameter(3.0, name="x")
    assert capture(add, x, 1.0).value == 4.0
    assert isinstance(capture(divide, x, 0), ErrorNode)
