"""Graph views: networkx, DOT, Mermaid, rendering."""

from __future__ import annotations

import shutil

import pytest

from undertow.engine import ErrorNode, GraphvizNotFoundError, Parameter, capture, render, to_dot, to_mermaid, to_networkx


def _graph():
    x = Parameter(2.0, name="x")
    y = Parameter('say "hi"', name="y")
    return x * 3 + 1, y + " <b>"


def test_networkx_view():
    out, _ = _graph()
    g = to_networkx(out)
    assert g.nodes["x"]["kind"] == "parameter" and g.number_of_edges() == 2
    assert [g.nodes[n]["op"] for n in g.successors("x")] == ["mul"]


def test_dot_and_mermaid_texts_escape_labels():
    out, text = _graph()
    dot = to_dot([out, text])
    assert dot.startswith("digraph undertow {") and 'say \\"hi\\"' in dot and "->" in dot
    mer = to_mermaid([out, text])
    assert mer.startswith("flowchart TD") and "#quot;hi#quot;" in mer and "#lt;b#gt;" in mer
    err = capture(lambda: Parameter(1.0, name="z") / 0)
    assert isinstance(err, ErrorNode) and "octagon" in to_dot(err) and "{{" in to_mermaid(err)


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
def test_render_svg(tmp_path):
    out, _ = _graph()
    path = render(out, tmp_path / "g.svg")
    assert path.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_render_without_graphviz_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    out, _ = _graph()
    with pytest.raises(GraphvizNotFoundError, match="install graphviz"):
        render(out, tmp_path / "g.svg")
