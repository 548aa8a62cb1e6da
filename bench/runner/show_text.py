"""`undertow bench show` for people: the data of `show.describe` drawn with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree


def _value_panel(p: dict[str, Any]) -> Panel:
    final = p["final"] if isinstance(p["final"], str) else repr(p["final"])
    body: list[Any] = [Text(final)]
    if p["diff"]:
        body += [Text(""), Syntax(p["diff"], "diff", word_wrap=True, theme="ansi_light")]
    elif p["changed"]:
        body += [Text(f"initial: {p['initial']!r}", style="dim")]
    else:
        body += [Text("(unchanged)", style="dim")]
    kind = f" [{p['kind']}]" if p["kind"] else ""
    return Panel(Group(*body), title=f"{p['name']}{kind}: final value", title_align="left")


def _short(value: Any, n: int = 90) -> str:
    text = " ".join((value if isinstance(value, str) else repr(value)).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _tree(nodes: list[dict[str, Any]]) -> Tree:
    root = Tree("search tree (node: visits, mean value, reward)")
    parents: dict[tuple[int, int], Tree] = {}
    for n in nodes:
        mark = " [bold green]best[/bold green]" if n.get("best") else (" [cyan]beam[/cyan]" if n.get("in_beam") else "")
        value = "-" if n["value"] is None else f"{n['value']:.3f}"
        label = f"#{n['node']}: {n['visits']} visits, value {value}, reward {n['reward']:.3f}{mark}  {_short(n['prompt'])}"
        parent = parents.get((n["tree"], n["parent"]), root)
        parents[(n["tree"], n["node"])] = parent.add(label)
    return root


def print_run(console: Console, d: dict[str, Any]) -> None:
    """One run: header, learned values, steps, proposals, tree."""
    test = "-" if d["test_score"] is None else f"{d['test_score']:.3f}"
    console.rule(f"[bold]{d['run_id']}[/bold]  {d['status']} at step {d['step']}  test {test}  ({d['tag']})")
    for p in d["parameters"]:
        console.print(_value_panel(p))
    steps = Table(title="steps", title_justify="left")
    for col in ("step", "split", "score", "calls", "tokens", "cost USD"):
        steps.add_column(col, justify="right", overflow="fold")
    for s in d["steps"]:
        steps.add_row(str(s["step"]), s["split"], f"{s['score']:.3f}", str(s["calls"]), str(s["tokens"]),
                      f"{s['cost_usd']:.4f}")
    console.print(steps)
    if d["proposals"]:
        table = Table(title="proposals", title_justify="left")
        for col in ("step", "parameter", "outcome", "score", "tokens", "value / reason"):
            table.add_column(col, justify="right" if col in ("step", "score", "tokens") else "left", overflow="fold")
        for p in d["proposals"]:
            outcome = "[green]accepted[/green]" if p["accepted"] else "[red]refused[/red]"
            score = "-" if p["score"] is None else f"{p['score']:.3f}"
            tokens = "-" if p["step_tokens"] is None else str(p["step_tokens"])
            what = _short(p["value"]) + (f"\n[dim]{_short(p['reason'])}[/dim]" if p["reason"] else "")
            table.add_row(str(p["step"]), str(p["parameter"]), outcome, score, tokens, what)
        console.print(table)
    if d.get("tree"):
        console.print(_tree(d["tree"]))


def print_description(console: Console, data: dict[str, Any]) -> None:
    """A run, or every run of a bench folder."""
    for d in data.get("runs", [data]):
        print_run(console, d)
