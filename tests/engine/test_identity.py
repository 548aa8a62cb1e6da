"""Deterministic identity: labels, DOT text and LLM requests depend only on the graph.

Node ids come from a process-wide counter, so nothing shown to an LLM or written to
a file may contain them. These tests build the same graph after different amounts
of unrelated work in the process and compare what comes out (llm=sim).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.dags import build, dag_specs
from undertow.bench.tasks.reasoning import boolean_expressions as be
from undertow.engine import Callback, Node, Parameter, TextualPropagator, backward, to_dot, to_mermaid, topological
from undertow.engine.graph import graph_labels
from undertow.engine.llm import make_llm
from undertow.engine.llm.traced import llm_call


class Keys(Callback):
    """Collects the cache key (a hash of the whole request) of every LLM call."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def on_llm_call(self, call) -> None:
        self.keys.append(call.key)


def _textgrad_requests(junk: int) -> tuple[list[str], list[str], str]:
    [Node(i) for i in range(junk)]  # unrelated nodes made before: they move the global counter
    llm = make_llm("sim", cache_dir=False, profiles=[be.PROFILE])
    seen = Keys()
    llm.add_callback(seen)
    prompt = Parameter("Evaluate the boolean expression.")  # unnamed on purpose: param:<k>
    questions = ["not ( True ) and ( False or True ) is", "True and not False is"]
    outs = [llm_call(llm, q + Node(" ?"), system=prompt) for q in questions]
    backward(outs, ["Wrong: expected False.", "Correct."], TextualPropagator(llm))
    critiques = [c for fb in prompt.feedback for c in fb.critiques]
    return seen.keys, critiques, to_dot(outs)


def test_textgrad_requests_do_not_depend_on_what_ran_before():
    keys0, crit0, dot0 = _textgrad_requests(0)
    keys7, crit7, dot7 = _textgrad_requests(7)
    assert len(keys0) > 2  # forward calls and critique calls were made
    assert keys0 == keys7 and crit0 == crit7 and dot0 == dot7


@settings(max_examples=40, deadline=None)
@given(dag_specs(), st.integers(0, 50))
def test_labels_are_unique_and_independent_of_earlier_nodes(spec, junk):
    _, _, outs_a = build(spec, [0.5] * spec.n_params)
    [Node(i) for i in range(junk)]
    _, _, outs_b = build(spec, [0.5] * spec.n_params)
    order_a, order_b = topological(outs_a), topological(outs_b)
    la, lb = graph_labels(order_a), graph_labels(order_b)
    assert [la[id(n)] for n in order_a] == [lb[id(n)] for n in order_b]
    assert len(set(la.values())) == len(order_a)  # unique within the graph
    assert to_dot(outs_a) == to_dot(outs_b) and to_mermaid(outs_a) == to_mermaid(outs_b)


def test_named_nodes_keep_their_names_and_duplicates_are_numbered():
    a, b = Parameter(1.0, name="w"), Parameter(2.0, name="w")
    out = a + b
    labels = graph_labels(topological([out]))
    assert sorted(labels.values()) == ["add:0", "w", "w#2"]
