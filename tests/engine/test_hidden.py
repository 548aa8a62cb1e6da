"""Finding 4 of issue 12: a body that reads a node it was not given is caught.

Reading `other.value` (or computing on `other`) inside an op body drops the edge
from `other`, so feedback could never reach it: by default that is an error naming
the node and the fix; `@op(hidden="record")` records the edge instead.
"""

from __future__ import annotations

import pytest

from undertow.engine import HiddenDependencyError, Module, Node, Parameter, backward, no_trace, op

TONE = Parameter("politely", name="tone")


@op
def reply_reading_global(question: str) -> str:
    return f"Answer {TONE.value}: {question}"


@op
def reply_using_global_operator(question: str) -> str:
    return TONE + question  # an operator on a hidden node


def test_reading_a_global_parameter_is_an_error_naming_node_and_fix() -> None:
    q = Parameter("why?", name="q")
    with pytest.raises(HiddenDependencyError) as info:
        reply_reading_global(q)
    msg = str(info.value)
    assert "'tone'" in msg and "reply_reading_global" in msg and "argument" in msg and 'hidden="record"' in msg


def test_operator_on_a_hidden_node_is_an_error() -> None:
    with pytest.raises(HiddenDependencyError, match="tone"):
        reply_using_global_operator(Parameter("q?", name="q"))


def test_closure_node_is_an_error() -> None:
    secret = Node(3.0, name="secret")

    @op
    def add_secret(x: float) -> float:
        return x + secret.value

    with pytest.raises(HiddenDependencyError, match="secret"):
        add_secret(Parameter(1.0, name="x"))


def test_attribute_of_a_plain_argument_is_an_error() -> None:
    class Agent(Module):
        def __init__(self) -> None:
            self.prompt = Parameter("Be brief.", name="prompt")

    @op
    def ask(agent: Agent, q: str) -> str:
        return agent.prompt.value + q

    with pytest.raises(HiddenDependencyError, match="prompt"):
        ask(Agent(), Parameter("q", name="q"))


def test_record_mode_adds_the_edge_and_feedback_reaches_it() -> None:
    @op(hidden="record")
    def reply_recording(question: str) -> str:
        return f"Answer {TONE.value}: {question}"

    q = Parameter("why?", name="q")
    out = reply_recording(q)
    assert out.value == "Answer politely: why?"
    assert out.parents == (q, TONE)
    backward(out, "be shorter")
    assert TONE.feedback
    TONE.zero_feedback()
    q.zero_feedback()


def test_passing_the_node_is_fine() -> None:
    @op
    def reply(tone: str, question: str) -> str:
        return f"Answer {tone}: {question}"

    out = reply(TONE, "why?")
    assert out.parents == (TONE,)


def test_nodes_made_inside_the_body_and_untraced_calls_are_fine() -> None:
    @op
    def local(x: float) -> float:
        n = Node(x)  # a node the body made itself
        return n.value * 2.0 + 1.0

    assert local(Parameter(1.0, name="x")).value == 3.0
    with no_trace():
        assert reply_reading_global("q") == "Answer politely: q"  # untraced: nothing to lose


def test_unknown_hidden_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="record"):
        op(hidden="ignore")(lambda x: x)
