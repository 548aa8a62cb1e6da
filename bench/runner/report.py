"""`undertow bench report DIR`: Markdown and HTML with the leaderboard, plots of the
score against LLM calls and against cost (spread over seeds), what the best run of
each cell (task x optimizer) learned (final values in full, diffs, the proposal
timeline, the search tree), and the traced graph of each task's best run (SVG where
graphviz `dot` is installed). The HTML page is one self-contained file.

Numbers are written one way everywhere: scores with 3 decimals, counts as whole
numbers, dollars with 4 decimals.

Every table row, plot title and page heading says which LLM made the numbers
(`llm=sim` for the simulator).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from undertow.bench.runner.checkpoint import write_atomic
from undertow.bench.runner.config import load_config
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.leaderboard import Row, curves, leaderboard
from undertow.bench.runner.records import StepRecord
from undertow.bench.runner.report_html import STYLE, cell_html, data_uri, inline
from undertow.bench.runner.report_plots import plot_task
from undertow.bench.runner.runner import collect
from undertow.bench.runner.show import describe_run
from undertow.bench.runner.worker import run_dir
from undertow.engine import GraphvizNotFoundError, render_dot


@dataclass
class Report:
    """The files a report wrote."""

    folder: Path
    markdown: Path
    html: Path
    rows: list[Row]
    plots: list[Path] = field(default_factory=list)
    graphs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _score(x: float) -> str:
    return f"{x:.3f}"


def _count(x: float) -> str:
    return f"{x:,.0f}"


def _usd(x: float) -> str:
    return f"{x:.4f}"


def _llms(rows: list[Row]) -> str:
    return ", ".join(sorted({r.tag for r in rows}))


def _graph(out: Path, row_task: str, best: StepRecord, folder: Path, notes: list[str]) -> Path | None:
    src = run_dir(out, f"{best.task}__{best.optimizer}__s{best.seed}")
    target = folder / f"{row_task}_graph.svg"
    if (src / "graph.svg").is_file():
        shutil.copyfile(src / "graph.svg", target)
        return target
    if not (src / "graph.dot").is_file():
        return None
    try:
        return render_dot((src / "graph.dot").read_text(encoding="utf-8"), target)
    except GraphvizNotFoundError:
        notes.append(f"{row_task}: graphviz `dot` not found, so no SVG; the DOT source of the best run "
                     f"is {src / 'graph.dot'} (install graphviz to render it)")
    except subprocess.CalledProcessError as exc:
        notes.append(f"{row_task}: graphviz failed ({exc.stderr.decode(errors='replace').strip()[:200]})")
    return None


def _run_figures(out: Path, row_task: str, best: StepRecord, folder: Path) -> list[Path]:
    """Copies of the PNG figures the best run's task wrote into its folder (sorted by name)."""
    src = run_dir(out, f"{best.task}__{best.optimizer}__s{best.seed}")
    figures = []
    for png in sorted(src.glob("*.png")):
        target = folder / f"{row_task.replace(':', '-')}_{png.name}"
        shutil.copyfile(png, target)
        figures.append(target)
    return figures


COLUMNS = ["#", "optimizer", "framework", "test score (mean ± sd)", "seeds", "best val", "calls", "tokens", "cost USD",
           "steps", "llm"]
NUMERIC = {"#", "seeds", "best val", "calls", "tokens", "cost USD", "steps"}


def _cells(i: int, r: Row) -> list[str]:
    return [str(i), r.optimizer, r.framework, f"{_score(r.mean)} ± {_score(r.sd)}", str(r.seeds), _score(r.best_val),
            _count(r.calls), _count(r.tokens), _usd(r.cost_usd), _count(r.steps), r.tag]


def _md_table(rows: list[Row]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "|".join("---:" if c in NUMERIC else "---" for c in COLUMNS) + "|\n"
    return head + "".join("| " + " | ".join(_cells(i, r)) + " |\n" for i, r in enumerate(rows, 1))


def _html_table(rows: list[Row]) -> str:
    def td(col: str, v: str) -> str:
        return f'<td class="num">{html.escape(v)}</td>' if col in NUMERIC else f"<td>{html.escape(v)}</td>"

    body = "".join("<tr>" + "".join(td(c, v) for c, v in zip(COLUMNS, _cells(i, r))) + "</tr>\n"
                   for i, r in enumerate(rows, 1))
    head = "".join(f'<th class="num">{html.escape(c)}</th>' if c in NUMERIC else f"<th>{html.escape(c)}</th>"
                   for c in COLUMNS)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _best_runs(out: Path, rows: list[Row], records: list[StepRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    """For each cell (task, optimizer): `describe_run` of its best seed (test score, then lowest seed)."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        tests = [r for r in records if (r.task, r.optimizer, r.llm, r.split) == (row.task, row.optimizer, row.llm, "test")]
        if not tests:
            continue
        top = max(tests, key=lambda r: (r.score, -r.seed))
        folder = run_dir(out, f"{top.task}__{top.optimizer}__s{top.seed}")
        try:
            best[(row.task, row.optimizer)] = describe_run(folder)
        except BenchError:
            continue
    return best


def _md_cell(d: dict[str, Any]) -> str:
    lines = [f"### {d['task']} · {d['optimizer']}: best run, seed {d['seed']} "
             f"(test score {_score(d['test_score'] or 0.0)}, {d['tag']})\n"]
    for p in d["parameters"]:
        state = "changed" if p["changed"] else "unchanged"
        kind = f" [{p['kind']}]" if p["kind"] else ""
        final = p["final"] if isinstance(p["final"], str) else repr(p["final"])
        lines += [f"**{p['name']}**{kind}, {state}; final value:\n", "```text", final, "```\n"]
        if p["diff"]:
            lines += ["Diff from the initial value:\n", "```diff", p["diff"].rstrip("\n"), "```\n"]
    props = d["proposals"]
    if props:
        ok = sum(p["accepted"] for p in props)
        lines.append(f"{len(props)} proposals, {ok} accepted; the timeline: `undertow bench show` on the run "
                     f"folder `runs/{d['run_id']}`.\n")
    if d.get("tree"):
        lines.append(f"Search tree: {len(d['tree'])} nodes (in the HTML report and `undertow bench show`).\n")
    return "\n".join(lines)


def write_report(out: str | Path, folder: str | Path | None = None) -> Report:
    """Write `report.md`, `report.html`, one PNG per task and the best runs' graphs."""
    out = Path(out)
    config = load_config(out)
    records = collect(out, config)
    rows = leaderboard(records)
    if not rows:
        raise BenchError(f"{out} has no finished run yet; finish it with `undertow bench resume {out}`")
    folder = Path(folder) if folder is not None else out / "report"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchError(f"cannot write the report to {folder} ({exc.strerror or exc})") from None
    report = Report(folder, folder / "report.md", folder / "report.html", rows)
    all_curves = curves(records)
    tasks = sorted({r.task for r in rows})
    tags = _llms(rows)
    md = [f"# Bench report ({tags})\n",
          (f"Run folder `{out}`; budget {config.budget}; {config.steps} steps; "
          f"seeds {sorted({r.seed for r in config.runs})}. Scores: the task's metric on the test split "
          "after the last step (higher is better); calls, tokens and cost: what the optimization spent "
          "(agent forward calls and optimizer calls; scoring is not counted).\n")]
    if any(r.llm == "sim" for r in rows):
        md.append("Results marked `llm=sim` come from the simulated LLM: they measure how well an "
                  "optimizer passes information, not how a real model behaves.\n")
    page = [f"<h1>Bench report ({html.escape(tags)})</h1>", f"<p>{inline(md[1])}</p>"]
    if len(md) > 2:
        page.append(f"<p>{inline(md[2])}</p>")
    best_runs = _best_runs(out, rows, records)
    for task in tasks:
        task_rows = [r for r in rows if r.task == task]
        plot = plot_task(task, [c for c in all_curves if c.task == task], folder)
        report.plots.append(plot)
        best = max((r for r in records if r.task == task and r.split == "test"), key=lambda r: (r.score, -r.seed))
        graph = _graph(out, task, best, folder, report.notes)
        md += [f"## {task} ({_llms(task_rows)})\n", _md_table(task_rows),
               f"\n![{task}: score vs calls and cost]({plot.name})\n"]
        page += [f"<h2>{html.escape(task)} ({html.escape(_llms(task_rows))})</h2>", _html_table(task_rows),
                 f'<p><img class="plot" src="{data_uri(plot)}" alt="{html.escape(task)}: score vs calls and cost"></p>']
        for r in task_rows:
            d = best_runs.get((task, r.optimizer))
            if d is not None:
                md.append(_md_cell(d))
                page.append(cell_html(d))
        best_txt = (f"Best run of the task: {best.optimizer}, seed {best.seed}, test score {_score(best.score)} "
                    f"(llm={best.llm}).")
        if graph is not None:
            report.graphs[task] = graph
            md.append(f"{best_txt} Its traced graph:\n\n![graph of the best run]({graph.name})\n")
            page.append(f"<h4>Traced graph of the task's best run</h4><p>{html.escape(best_txt)}</p>"
                        f'<p><img class="graph" src="{data_uri(graph)}" alt="traced graph"></p>')
        else:
            md.append(f"{best_txt}\n")
            page.append(f"<p>{html.escape(best_txt)}</p>")
        for fig in _run_figures(out, task, best, folder):   # PNGs the task wrote (e.g. a QD archive heatmap)
            md.append(f"![{fig.stem} of the best run]({fig.name})\n")
            page.append(f'<p><img class="plot" src="{data_uri(fig)}" alt="{html.escape(fig.stem)}"></p>')
    if report.notes:
        md += ["## Notes\n", *[f"- {n}" for n in report.notes], ""]
        page += ["<h2>Notes</h2><ul>", *[f"<li>{inline(n)}</li>" for n in report.notes], "</ul>"]
    write_atomic(report.markdown, "\n".join(md) + "\n")
    write_atomic(report.html, f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                 f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 f"<title>Bench report ({html.escape(tags)})</title><style>{STYLE}</style></head><body>\n"
                 + "\n".join(page) + "\n</body></html>\n")
    return report
