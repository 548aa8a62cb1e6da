"""Notebook display: graphs as SVG (graphviz) or Mermaid, Modules and results as HTML."""

from __future__ import annotations

import re
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine import Graph, Module, Parameter, sin
from undertow.engine import notebook as nb


TAGS = re.compile(r"</?(div|strong|table|thead|tbody|tr|th|td|code|p|small)( style='[^']*')?>")


class Agent(Module):
    def __init__(self, prompt: str) -> None:
        self.prompt = Parameter(prompt, name="prompt")
        self.scale = Parameter(2.0, name="scale")


def _graph():
    x = Parameter(0.5, name="x")
    return sin(x) * 2.0


def test_node_shows_mermaid_without_graphviz(monkeypatch) -> None:
    monkeypatch.setattr(nb.shutil, "which", lambda name: None)
    bundle = _graph()._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert bundle["text/markdown"].startswith("```mermaid\nflowchart")
    assert "x" in bundle["text/markdown"] and "sin" in bundle["text/markdown"]
    assert "3 nodes" in bundle["text/plain"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_node_shows_svg_with_graphviz() -> None:
    bundle = Graph([_graph(), _graph()])._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert "text/markdown" not in bundle


def test_huge_graphs_are_not_drawn(monkeypatch) -> None:
    monkeypatch.setattr(nb, "MAX_DRAWN_NODES", 2)
    bundle = _graph()._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and "too large" in bundle["text/markdown"]


def test_graph_needs_nodes() -> None:
    with pytest.raises(TypeError, match="Nodes"):
        Graph([1, 2])


@given(st.text(max_size=60))
def test_module_html_lists_parameters_and_escapes_values(prompt: str) -> None:
    page = Agent(prompt)._repr_html_()
    assert "Agent: 2 parameters" in page and "<td" in page
    assert "scale" in page and "prompt" in page
    # every "<" left is one of our own tags: the value was escaped
    assert "<" not in TAGS.sub("", page)
    assert page.count("<tr>") == 3   # header + 2 parameters


def test_outcome_html_shows_final_test_scores(tmp_path) -> None:
    from undertow.bench.runner.records import StepRecord
    from undertow.bench.runner.runner import Outcome

    rec = dict(task="t", optimizer="opt", llm="sim", budget="calls=5", seed=0, calls=3,
               tokens=10, cost_usd=0.0, eval_calls=1, wall_s=0.1)
    records = [StepRecord(step=0, split="test", score=0.25, **rec),
               StepRecord(step=4, split="test", score=0.75, **rec),
               StepRecord(step=4, split="val", score=0.5, **rec)]
    page = Outcome(tmp_path, done=["r1"], failed={"r2": "boom <b>"}, records=records)._repr_html_()
    assert "0.750" in page and "0.250" not in page and "sim" in page
    assert "boom &lt;b&gt;" in page and "1 runs done, 1 failed" in page
