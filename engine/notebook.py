"""Rich display in Jupyter and other notebooks (IPython's display protocol).

A node (or a `Graph` of several outputs) shows its traced graph: an SVG drawn by
graphviz's `dot` when it is installed, else the Mermaid text (rendered by JupyterLab
4.1+, GitHub and many Markdown viewers). Modules and result objects show an HTML
table. Nothing here imports IPython; these functions only build the data.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from undertow.engine.node import Node
from undertow.engine.views import short, to_dot, to_mermaid

#: Graphs larger than this many nodes show as text only (a huge SVG freezes a notebook).
MAX_DRAWN_NODES = 400


def _count(outputs: Sequence[Node]) -> int:
    from undertow.engine.graph import topological

    return len(topological(outputs))


def graph_svg(outputs: Node | Sequence[Node]) -> str | None:
    """The graph as SVG text from graphviz's `dot`, or None when `dot` is not installed
    or fails."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        done = subprocess.run([dot, "-Tsvg"], input=to_dot(outputs).encode(), check=True,
                              capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", errors="replace")


def graph_mimebundle(outputs: Node | Sequence[Node]) -> dict[str, str]:
    """What a notebook shows for a graph: SVG (graphviz) or Mermaid Markdown, plus text."""
    outs = [outputs] if isinstance(outputs, Node) else list(outputs)
    size = _count(outs)
    text = (repr(outs[0]) if len(outs) == 1 else f"Graph({len(outs)} outputs)") + \
        f" -- {size} nodes"
    bundle = {"text/plain": text}
    if size > MAX_DRAWN_NODES:
        bundle["text/markdown"] = (f"{html.escape(text)}: too large to draw here; use "
                                   "`undertow.engine.render(...)` to write an SVG file")
        return bundle
    svg = graph_svg(outs)
    if svg is not None:
        bundle["image/svg+xml"] = svg
    else:
        bundle["text/markdown"] = "```mermaid\n" + to_mermaid(outs) + "```\n"
    return bundle


class Graph:
    """Several outputs shown together in a notebook: `Graph([loss, answer])`."""

    def __init__(self, outputs: Node | Iterable[Node]) -> None:
        self.outputs = [outputs] if isinstance(outputs, Node) else list(outputs)
        if not self.outputs or not all(isinstance(o, Node) for o in self.outputs):
            raise TypeError("Graph needs one or more Nodes (traced outputs)")

    def __repr__(self) -> str:
        return f"Graph({len(self.outputs)} outputs, {_count(self.outputs)} nodes)"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return graph_mimebundle(self.outputs)


def html_table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
               note: str = "") -> str:
    """A small self-contained HTML table (values escaped and shortened)."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'><code>{html.escape(short(v, 120))}</code></td>"
                         for v in row) + "</tr>"
        for row in rows)
    foot = f"<p><small>{html.escape(note)}</small></p>" if note else ""
    return (f"<div><strong>{html.escape(title)}</strong>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>")


def module_html(module: Any) -> str:
    """A Module as an HTML table: each parameter's name, kind, value and version."""
    rows = [(name, p.kind, p.value, p.version) for name, p in module.named_parameters()]
    return html_table(f"{type(module).__name__}: {len(rows)} parameters",
                      ("parameter", "kind", "value", "version"), rows)


def mapping_html(title: str, data: Mapping[str, Any]) -> str:
    """Any name -> value mapping as a two-column HTML table."""
    return html_table(title, ("field", "value"), data.items())
