"""Trainable code parameters: signature enforcement, recompilation, error lines."""

from __future__ import annotations

import pytest
from undertow.engine.sandbox import SandboxError
from undertow.engine import (
    ErrorNode,
    InvalidValueError,
    Node,
    Parameter,
    backward,
    capture,
    op,
)


@op(trainable=True)
def policy(board, step=1):
    """Pick the next cell."""
    return board + step


def test_source_becomes_a_code_parameter_without_decorators():
    assert policy.code.kind == "code"
    assert policy.code.value.startswith("def policy(board, step=1):")
    assert "@op" not in policy.code.value
    assert policy.code.signature == "def policy(board, step)"


def test_new_code_runs_and_the_code_parameter_gets_feedback():
    original = policy.code.value
    try:
        x = Parameter(10, name="x")
        assert policy(x).value == 11
        policy.code.value = "def policy(board, step=5):\n    return helper(board) * step\n\ndef helper(b):\n    return b - 1\n"
        out = policy(x)
        assert out.value == 45 and policy.code in out.parents
        backward(out, "too large")
        assert policy.code.feedback[-1].outputs == [out]
    finally:
        policy.code.value = original
        policy.code.zero_feedback()


@pytest.mark.parametrize(
    "src, match",
    [
        ("def policy(board):\n    return board\n", "signature changed"),
        ("def other(board, step=1):\n    return board\n", "no top-level function named 'policy'"),
        ("def policy(board, step=1)\n    return board\n", "syntax error at line 1"),
        ("async def policy(board, step=1):\n    return board\n", "signature changed"),
    ],
)
def test_code_that_breaks_the_constraint_is_rejected(src, match):
    before = policy.code.value
    with pytest.raises(InvalidValueError, match=match):
        policy.code.value = src
    assert policy.code.value == before


def test_compile_time_syntax_error_is_an_error_node_with_its_line():
    original = policy.code.value
    try:
        # Parses, but the compiler rejects `break` outside a loop.
        policy.code.value = "def policy(board, step=1):\n    x = board\n    break\n"
        node = capture(policy, Node(1))
        # New code is not the function's own: it ran (and failed to compile) in the sandbox.
        assert isinstance(node, ErrorNode) and isinstance(node.exception, SandboxError)
        assert node.exception.kind == "syntax" and "'break' outside loop" in str(node.exception)
        assert node.lineno == 3 and node.source_line.strip() == "break"
        assert policy.code in node.parents
    finally:
        policy.code.value = original


def test_runtime_error_in_new_code_points_into_that_code():
    original = policy.code.value
    try:
        policy.code.value = "def policy(board, step=1):\n    y = board * 2\n    return y / 0\n"
        node = capture(policy, Node(1))
        assert isinstance(node, ErrorNode) and node.lineno == 3
        assert node.source_line.strip() == "return y / 0"
        assert node.filename.startswith("<undertow-code policy")
    finally:
        policy.code.value = original


def test_closures_cannot_be_trainable():
    k = 3

    def f(x):
        return x * k

    with pytest.raises(ValueError, match="closes over local variables"):
        op(trainable=True)(f)


def test_trainable_code_can_run_in_a_sandbox_pool():
    from undertow.engine.sandbox import SandboxPool

    with SandboxPool(workers=1, timeout_s=5) as pool:

        @op(trainable=True, executor=pool)
        def pick(cells, k):
            return cells[k]

        assert pick(Node([1, 2, 3]), 1).value == 2
        pick.code.value = "def pick(cells, k):\n    x = cells\n    return x[k + 10]\n"
        node = capture(pick, Node([1, 2, 3]), 1)
        assert isinstance(node, ErrorNode) and node.lineno == 3 and "x[k + 10]" in node.source_line
        assert pick.code in node.parents
        pick.code.value = "def pick(cells, k):\n    return cells[k] * 2\n"
        assert pick(Node([4, 5]), 0).value == 8

    with pytest.raises(ValueError, match="add trainable=True"):
        op(executor=object())(lambda x: x)


SPY = "def {name}(board, step=1):\n    import os\n    return [os.getpid(), board + step]\n"


def test_code_that_is_not_the_functions_own_runs_in_the_sandbox_by_default():
    import os

    @op(trainable=True)
    def probe(board, step=1):
        import os
        return [os.getpid(), board + step]

    assert probe(Node(1)).value == [os.getpid(), 2]       # its own source: in this process
    probe.code.value = SPY.format(name="probe") + "# proposed\n"
    pid, total = probe(Node(1)).value
    assert pid != os.getpid() and total == 2              # anything else: in a sandbox worker


def test_in_process_execution_is_an_explicit_opt_in():
    import os

    @op(trainable=True, executor="inprocess")
    def probe(board, step=1):
        return [0, board + step]

    probe.code.value = SPY.format(name="probe")
    assert probe(Node(1)).value == [os.getpid(), 2]
    def other(x):
        return x

    with pytest.raises(ValueError, match="executor='sandbox'"):
        op(trainable=True, executor="sandbox")(other)


def test_compile_error_in_process_is_a_syntax_error_node():
    @op(trainable=True, executor="inprocess")
    def probe(board, step=1):
        return board

    probe.code.value = "def probe(board, step=1):\n    x = board\n    break\n"
    node = capture(probe, Node(1))
    assert isinstance(node, ErrorNode) and isinstance(node.exception, SyntaxError) and node.lineno == 3


def test_a_trainable_methods_new_code_runs_sandboxed_without_the_instance():
    import os

    class Agent:
        @op(trainable=True)
        def act(self, x):
            return x + 1

    a = Agent()
    assert a.act(Node(1)).value == 2
    a.act.code.value = "def act(self, x):\n    import os\n    return [os.getpid(), self, x * 10]\n"
    pid, seen_self, value = a.act(Node(2)).value
    assert pid != os.getpid() and seen_self is None and value == 20
