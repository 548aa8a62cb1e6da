"""Views of a traced graph: networkx, DOT, Mermaid, and rendered SVG/PNG.

Each takes the outputs (a node or a list) and shows them with all their ancestors.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from undertow.engine.errors import GraphvizNotFoundError
from undertow.engine.graph import graph_labels, topological
from undertow.engine.node import ErrorNode, Node
from undertow.engine.params import Parameter

if TYPE_CHECKING:
    import networkx as nx


def _outputs(outputs: Node | Sequence[Node]) -> list[Node]:
    return [outputs] if isinstance(outputs, Node) else list(outputs)


def _kind(n: Node) -> str:
    if isinstance(n, Parameter):
        return "parameter"
    if isinstance(n, ErrorNode):
        return "error"
    return "operator" if n.op is not None else "constant"


def short(value: object, limit: int = 40) -> str:
    """A one-line preview of a value, cut to `limit` characters.

    Its cost is bounded by `limit`, not by the value: containers are walked only until
    the preview is full, so huge, deep, cyclic or shared-subtree values (`a = [a, a]`
    repeated) preview as fast as small ones.
    """
    text = value[: limit * 4 + 16] if isinstance(value, str) else bounded_repr(value, limit * 4 + 16)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_OPEN = {list: ("[", "]"), tuple: ("(", ")"), set: ("{", "}"), frozenset: ("frozenset({", "})"), dict: ("{", "}")}


def bounded_repr(value: object, budget: int) -> str:
    """`repr(value)` for plain containers, but stopping after about `budget` characters."""
    out: list[str] = []
    size = 0
    # A stack of pending pieces: strings to emit, or values to expand.
    stack: list[tuple[bool, object]] = [(False, value)]
    active: set[int] = set()
    while stack and size <= budget:
        is_text, item = stack.pop()
        if is_text:
            if isinstance(item, int):      # leaving a container
                active.discard(item)
                continue
            piece = str(item)
        elif type(item) in _OPEN and not (type(item) in (set, frozenset) and not item):  # type: ignore[truthy-bool]
            if id(item) in active:
                piece = "[...]" if type(item) is list else "{...}"
            else:
                opener, closer = _OPEN[type(item)]
                active.add(id(item))
                pending: list[tuple[bool, object]] = [(True, closer), (True, id(item))]
                entries = item.items() if type(item) is dict else item  # type: ignore[attr-defined]
                children: list[tuple[bool, object]] = []
                for i, entry in enumerate(entries):  # type: ignore[arg-type]
                    if i:
                        children.append((True, ", "))
                    if type(item) is dict:
                        k, v = entry
                        children += [(False, k), (True, ": "), (False, v)]
                    else:
                        children.append((False, entry))
                    if len(children) > budget:
                        children.append((True, ", ..."))
                        break
                if type(item) is tuple and len(item) == 1:  # type: ignore[arg-type]
                    children.append((True, ","))
                stack += pending
                stack += reversed(children)
                piece = opener
        else:
            try:
                piece = repr(item)
            except Exception as exc:  # noqa: BLE001 - a preview must not fail
                piece = f"<unprintable {type(item).__name__}: {type(exc).__name__}>"
            if len(piece) > budget:
                piece = piece[:budget]
        out.append(piece)
        size += len(piece)
    text = "".join(out)
    return text if not stack else text + "…"


def to_networkx(outputs: Node | Sequence[Node]) -> nx.DiGraph:
    """A DiGraph over the outputs and their ancestors, keyed by node label.

    Node attributes: `value`, `kind` (parameter / operator / constant / error) and
    `op` (the operator name or None); edges go from parent to child.
    """
    import networkx as nx  # imported on use: it is slow to import

    g = nx.DiGraph()
    order = topological(_outputs(outputs))
    labels = graph_labels(order)
    for n in order:
        g.add_node(labels[id(n)], value=n.value, kind=_kind(n), op=n.op.name if n.op is not None else None)
        for p in n.parents:
            g.add_edge(labels[id(p)], labels[id(n)])
    return g


_DOT_STYLE = {
    "parameter": 'shape=box, style="rounded,filled", fillcolor="#ffe9a8"',
    "operator": 'shape=ellipse, style=filled, fillcolor="#dce9f7"',
    "constant": 'shape=note, style=filled, fillcolor="#eeeeee"',
    "error": 'shape=octagon, style=filled, fillcolor="#f6b3b3"',
}


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(outputs: Node | Sequence[Node], *, value_chars: int = 40) -> str:
    """Graphviz DOT text of the graph (parameters boxed, errors red)."""
    lines = ["digraph undertow {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    order = topological(_outputs(outputs))
    labels, key = graph_labels(order), {id(n): i for i, n in enumerate(order)}
    for n in order:
        label = _dot_escape(f"{labels[id(n)]}\n{short(n.value, value_chars)}")
        lines.append(f'  n{key[id(n)]} [label="{label}", {_DOT_STYLE[_kind(n)]}];')
    for n in order:
        for p in n.parents:
            lines.append(f"  n{key[id(p)]} -> n{key[id(n)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


_MERMAID_SHAPE = {"parameter": ('["', '"]'), "operator": ('("', '")'), "constant": ('[/"', '"/]'),
                  "error": ('{{"', '"}}')}


def to_mermaid(outputs: Node | Sequence[Node], *, value_chars: int = 40) -> str:
    """Mermaid flowchart text of the graph (renders in GitHub Markdown)."""
    lines = ["flowchart TD"]
    order = topological(_outputs(outputs))
    labels, key = graph_labels(order), {id(n): i for i, n in enumerate(order)}
    for n in order:
        left, right = _MERMAID_SHAPE[_kind(n)]
        label = _mermaid_escape(f"{labels[id(n)]}: {short(n.value, value_chars)}")
        lines.append(f"  n{key[id(n)]}{left}{label}{right}")
    for n in order:
        for p in n.parents:
            lines.append(f"  n{key[id(p)]} --> n{key[id(n)]}")
    return "\n".join(lines) + "\n"


def render(outputs: Node | Sequence[Node], path: str | Path, *, format: str | None = None) -> Path:
    """Render the graph to SVG, PNG or PDF with graphviz's `dot` (format from the suffix).

    Raises `GraphvizNotFoundError` with install instructions when `dot` is missing.
    """
    return render_dot(to_dot(outputs), path, format=format)


def render_dot(dot_source: str, path: str | Path, *, format: str | None = None) -> Path:
    """Render DOT text (e.g. a saved `graph.dot`) to SVG, PNG or PDF with graphviz's `dot`."""
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if fmt not in {"svg", "png", "pdf"}:
        raise ValueError(f"cannot render to {fmt!r}; use a .svg, .png or .pdf path")
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(
            "rendering needs graphviz's `dot` program, which is not on PATH: install graphviz "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            "or use to_dot()/to_mermaid() for the text"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=dot_source.encode(), check=True,
                   capture_output=True, timeout=120)
    return path
