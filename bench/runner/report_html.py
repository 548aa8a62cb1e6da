"""HTML pieces of the report: one self-contained page (images inlined as data URIs,
no script, no network), readable on screen and on paper.

For the best run of each cell (task x optimizer) it shows what was learned: the
final value of every learned parameter in full, its diff from the initial value,
the proposal timeline, and for tree searches the whole tree.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

MAX_PROPOSALS = 80
MAX_TREE_NODES = 300

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:78em;margin:1.5em auto;padding:0 1em;
 color:#1b1b1b;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.15em;margin-top:1.6em}
h3{margin:1.2em 0 .4em}h4{margin:.9em 0 .3em;color:#444}
table{border-collapse:collapse;margin:.4em 0 .8em;font-size:.92em}
td,th{border:1px solid #ccc;padding:.25em .55em;vertical-align:top}th{background:#f3f3f3;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f2f2f2;padding:0 .25em;border-radius:3px;font-size:.95em}
pre{background:#f7f7f7;border:1px solid #e1e1e1;border-radius:4px;padding:.55em .7em;white-space:pre-wrap;
 word-break:break-word;font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:13px;margin:.3em 0 .6em}
pre.diff .add{background:#e6ffec;color:#0a5d1a;display:block}pre.diff .del{background:#ffebe9;color:#8a1111;display:block}
pre.diff .hunk{color:#6a3fb5;display:block}pre.diff .ctx{display:block}
img.plot{max-width:100%;height:auto;border:1px solid #eee}img.graph{max-width:100%;height:auto}
section.cell{border:1px solid #e4e4e4;border-radius:6px;padding:.4em 1em .8em;margin:1em 0}
.ok{color:#0a6b1f;font-weight:600}.no{color:#a11;font-weight:600}.dim{color:#666}
ul.tree{list-style:none;padding-left:1.1em;margin:.2em 0;border-left:1px dotted #bbb}
ul.tree li{margin:.15em 0}.best{background:#fff3bf}.node-stats{font-variant-numeric:tabular-nums;color:#444}
@media print{body{max-width:none;margin:0;font-size:10pt}tr,img,ul.tree li{break-inside:avoid}
 h2,h3,h4,p:has(+pre){break-after:avoid}section.cell{border:none;padding:0}details>summary{list-style:none}
 a{color:inherit;text-decoration:none}}
"""


def inline(text: str) -> str:
    """Escape `text` for HTML and turn Markdown `code` spans into <code> elements."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def data_uri(path: Path) -> str:
    """The file as a data: URI (PNG or SVG), so the page needs no other file."""
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return f"<pre>{html.escape(text)}</pre>"


def _diff(diff: str) -> str:
    """A unified diff with added, removed and hunk lines coloured (one block per line)."""
    out = []
    for ln in diff.splitlines():
        if ln.startswith("@@"):
            cls = "hunk"
        elif ln.startswith("+") and not ln.startswith("+++"):
            cls = "add"
        elif ln.startswith("-") and not ln.startswith("---"):
            cls = "del"
        else:
            cls = "ctx"
        out.append(f'<span class="{cls}">{html.escape(ln) or "&nbsp;"}</span>')
    return '<pre class="diff">' + "".join(out) + "</pre>"


def _short(value: Any, n: int = 220) -> str:
    text = " ".join((value if isinstance(value, str) else repr(value)).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(x: float | None, fmt: str = "{:.3f}") -> str:
    return "–" if x is None else fmt.format(x)


def _is_long(p: dict[str, Any]) -> bool:
    """Text, code and structured values get a block of their own; numbers and choices a table row."""
    return p["kind"] in ("text", "code", "json") or isinstance(p["final"], (str, dict, list))


def parameters_html(d: dict[str, Any]) -> str:
    out = ["<h4>Learned parameters: final values</h4>"]
    short = [p for p in d["parameters"] if not _is_long(p)]
    if short:
        rows = "".join(
            f"<tr><td><b>{html.escape(p['name'])}</b></td><td>{html.escape(p['kind'])}</td>"
            f"<td class=\"num\">{html.escape(_value(p['initial']))}</td>"
            f"<td class=\"num\"><b>{html.escape(_value(p['final']))}</b></td>"
            f"<td>{'<span class=ok>changed</span>' if p['changed'] else '<span class=dim>unchanged</span>'}</td></tr>"
            for p in short)
        out.append("<table><thead><tr><th>parameter</th><th>kind</th><th class=\"num\">initial</th>"
                   f"<th class=\"num\">final</th><th></th></tr></thead><tbody>{rows}</tbody></table>")
    for p in d["parameters"]:
        if not _is_long(p):
            continue
        kind = f" <span class=\"dim\">[{html.escape(p['kind'])}]</span>" if p["kind"] else ""
        state = '<span class="ok">changed</span>' if p["changed"] else '<span class="dim">unchanged</span>'
        out.append(f"<p><b>{html.escape(p['name'])}</b>{kind} · {state}</p>{_pre(p['final'])}")
        if p["diff"]:
            out.append(f"<details open><summary>diff from the initial value</summary>{_diff(p['diff'])}</details>")
    return "\n".join(out)


def _value(v: Any) -> str:
    if isinstance(v, str) and _looks_numeric(v):
        v = float(v)
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _groups(props: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive proposals of one step with the same outcome and reason, as one row
    (a numeric step proposes every parameter at once)."""
    groups: list[list[dict[str, Any]]] = []
    for p in props:
        last = groups[-1][0] if groups else None
        if last is not None and (last["step"], last["accepted"], last.get("phase")) == (
                p["step"], p["accepted"], p.get("phase")) and not _is_text(p["value"]) \
                and not _is_text(last["value"]):
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and not _looks_numeric(v)


def _looks_numeric(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def proposals_html(d: dict[str, Any]) -> str:
    props = d["proposals"]
    if not props:
        return "<h4>Proposals</h4><p class=\"dim\">none logged</p>"
    accepted = sum(p["accepted"] for p in props)
    groups = _groups(props)
    rows = []
    for g in groups[:MAX_PROPOSALS]:
        p = g[0]
        outcome = '<span class="ok">accepted</span>' if p["accepted"] else '<span class="no">refused</span>'
        reasons = {q["reason"] for q in g}
        why = p["reason"] if len(reasons) == 1 else "; ".join(f"{q['parameter']}: {q['reason']}" for q in g)
        reason = f"<br><span class=\"dim\">{html.escape(_short(why, 240))}</span>" if why else ""
        step = f"{p['step']}" + (" (final)" if p.get("phase") == "finalize" else "")
        names = ", ".join(str(q["parameter"]) for q in g)
        if len(g) == 1:
            value = html.escape(_short(p["value"]) if _is_text(p["value"]) else _value(p["value"]))
        else:
            value = ", ".join(f"{html.escape(str(q['parameter']))} = {html.escape(_value(q['value']))}" for q in g)
        rows.append(f"<tr><td class=\"num\">{step}</td><td>{html.escape(names)}</td><td>{outcome}</td>"
                    f"<td class=\"num\">{_num(p['score'])}</td><td class=\"num\">{_num(p['step_tokens'], '{:,}')}</td>"
                    f"<td>{value}{reason}</td></tr>")
    more = (f"<p class=\"dim\">{len(groups) - MAX_PROPOSALS} more rows: <code>undertow bench show "
            f"OUT/runs/{html.escape(d['run_id'])}</code></p>" if len(groups) > MAX_PROPOSALS else "")
    return (f"<h4>Proposal timeline ({len(props)} proposals, {accepted} accepted)</h4>"
            "<table><thead><tr><th class=\"num\">step</th><th>parameter</th><th>outcome</th>"
            "<th class=\"num\">score</th><th class=\"num\">step tokens</th><th>value / reason</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>" + more)


def tree_html(nodes: list[dict[str, Any]] | None) -> str:
    if not nodes:
        return ""
    shown = nodes[:MAX_TREE_NODES]
    kids: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for n in shown:
        kids.setdefault((n["tree"], n["parent"]), []).append(n)

    def render(tree: int, parent: int) -> str:
        items = []
        for n in kids.get((tree, parent), []):
            cls = ' class="best"' if n.get("best") or n.get("in_beam") else ""
            tag = " <b>best</b>" if n.get("best") else (" <b>beam</b>" if n.get("in_beam") else "")
            reward = f" · reward {_num(n['reward'])}" if n["reward"] else ""
            stats = (f"<span class=\"node-stats\">#{n['node']} · {n['visits']} visits · mean value "
                     f"{_num(n['value'])}{reward}</span>{tag}")
            items.append(f"<li{cls}>{stats}<br>{html.escape(_short(n['prompt'], 300))}{render(tree, n['node'])}</li>")
        return f"<ul class=\"tree\">{''.join(items)}</ul>" if items else ""

    roots = sorted({n["tree"] for n in shown})
    more = f"<p class=\"dim\">{len(nodes) - len(shown)} more nodes not shown</p>" if len(nodes) > len(shown) else ""
    return (f"<h4>Search tree ({len(nodes)} nodes: visits, mean value, prompt)</h4>"
            + "".join(render(t, -1) for t in roots) + more)


def cell_html(d: dict[str, Any]) -> str:
    """One cell's best run: what it learned."""
    head = (f"<h3>{html.escape(d['task'])} · {html.escape(d['optimizer'])}: best run, seed {d['seed']} "
            f"(test score {_num(d['test_score'])}, {html.escape(d['tag'])})</h3>")
    stop = f"; stopped by {html.escape(d['stopped'])}" if d["stopped"] else ""
    meta = f"<p class=\"dim\">{d['step']} of {d['steps_planned']} steps{stop}.</p>"
    return (f"<section class=\"cell\">{head}{meta}{parameters_html(d)}{proposals_html(d)}"
            f"{tree_html(d.get('tree'))}</section>")
