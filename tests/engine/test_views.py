"""Graph views: networkx, DOT, Mermaid, rendering."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.engine import (
    ErrorNode,
    GraphvizNotFoundError,
    Node,
    Parameter,
    capture,
    render,
    to_dot,
    to_mermaid,
    to_networkx,
)
from undertow.engine.views import bounded_repr, short


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


# -- bounded previews (issue #13: a 200-byte result with shared subtrees hung the host) --------

_plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5) | st.binary(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3), inner, max_size=3) | st.frozensets(st.integers(), max_size=3)
    | st.sets(st.integers(), max_size=3),
    max_leaves=20)


@given(_plain)
@settings(max_examples=200, deadline=None)
def test_bounded_repr_equals_repr_when_the_budget_allows(value):
    assert bounded_repr(value, 10**6) == repr(value)


@given(_plain, st.integers(min_value=1, max_value=60))
@settings(max_examples=200, deadline=None)
def test_short_is_a_prefix_of_the_full_preview_and_fits(value, limit):
    text = short(value, limit)
    assert len(text) <= limit
    full = " ".join((value if isinstance(value, str) else repr(value)).split())
    assert full.startswith(text.rstrip("…"))


def test_shared_subtrees_and_cycles_preview_without_walking_them():
    a: list = []
    for _ in range(300):      # 2**300 leaves if walked as a tree
        a = [a, a]
    assert short(a, 20).startswith("[[[[")
    node = Node(a)
    assert "[[[[" in to_dot(node) and "[[[[" in to_mermaid(node)
    c: list = [1]
    c.append(c)
    assert short(c, 40) == "[1, [...]]"
    d: dict = {}
    d["self"] = d
    assert short(d) == "{'self': {...}}"
