"""`undertow bench report DIR`: Markdown and HTML with the leaderboard, plots of the
score against LLM calls and against cost (spread over seeds), and the traced graph
of each task's best run (SVG where graphviz `dot` is installed).

Every table row, plot title and page heading says which LLM made the numbers
(`llm=sim` for the simulator).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from undertow.bench.runner.checkpoint import write_atomic
from undertow.bench.runner.config import load_config
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.leaderboard import Curve, Row, curves, leaderboard
from undertow.bench.runner.records import StepRecord
from undertow.bench.runner.runner import collect
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


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _llms(rows: list[Row]) -> str:
    return ", ".join(sorted({r.tag for r in rows}))


def _plot(task: str, cs: list[Curve], folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tags = ", ".join(sorted({f"llm={c.llm}" for c in cs}))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, xname, label in ((axes[0], "calls", "LLM calls"), (axes[1], "cost", "cost (USD)")):
        for c in cs:
            xs = getattr(c, xname)
            if not any(xs):  # no LLM spend at all: show the steps instead
                xs, label_used = [float(s) for s in c.steps], f"{label} (none spent; x = step)"
            else:
                label_used = label
            lo = [m - s for m, s in zip(c.mean, c.sd)]
            hi = [m + s for m, s in zip(c.mean, c.sd)]
            ax.plot(xs, c.mean, marker="o", label=c.optimizer)
            ax.fill_between(xs, lo, hi, alpha=0.2)
            ax.set_xlabel(label_used)
        ax.set_ylabel("validation score (mean ± sd over seeds)")
        ax.set_title(f"{task}: score vs {label} ({tags})", fontsize=9)
        ax.legend(fontsize=8)
    path = folder / f"{task}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


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


def _md_table(rows: list[Row]) -> str:
    head = ("| # | optimizer | framework | test score (mean ± sd) | seeds | best val | calls | tokens | "
            "cost USD | steps | llm |\n")
    head += "|---|---|---|---|---|---|---|---|---|---|---|\n"
    return head + "".join(
        f"| {i} | {r.optimizer} | {r.framework} | {_fmt(r.mean)} ± {_fmt(r.sd)} | {r.seeds} | {_fmt(r.best_val)} | "
        f"{_fmt(r.calls)} | {_fmt(r.tokens)} | {r.cost_usd:.4f} | {_fmt(r.steps)} | {r.tag} |\n"
        for i, r in enumerate(rows, 1))


def _html_table(rows: list[Row]) -> str:
    cols = ["#", "optimizer", "framework", "test score (mean ± sd)", "seeds", "best val", "calls", "tokens",
            "cost USD", "steps", "llm"]
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            i, r.optimizer, r.framework, f"{_fmt(r.mean)} ± {_fmt(r.sd)}", r.seeds, _fmt(r.best_val), _fmt(r.calls),
            _fmt(r.tokens), f"{r.cost_usd:.4f}", _fmt(r.steps), r.tag)) + "</tr>\n"
        for i, r in enumerate(rows, 1))
    return ("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols)
            + f"</tr></thead><tbody>\n{body}</tbody></table>")


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
    page = [f"<h1>Bench report ({html.escape(tags)})</h1>", f"<p>{html.escape(md[1])}</p>"]
    if len(md) > 2:
        page.append(f"<p>{html.escape(md[2])}</p>")
    for task in tasks:
        task_rows = [r for r in rows if r.task == task]
        plot = _plot(task, [c for c in all_curves if c.task == task], folder)
        report.plots.append(plot)
        best = max((r for r in records if r.task == task and r.split == "test"), key=lambda r: r.score)
        graph = _graph(out, task, best, folder, report.notes)
        md += [f"## {task} ({_llms(task_rows)})\n", _md_table(task_rows),
               f"\n![{task}: score vs calls and cost]({plot.name})\n"]
        page += [f"<h2>{html.escape(task)} ({html.escape(_llms(task_rows))})</h2>", _html_table(task_rows),
                 f'<p><img src="{html.escape(plot.name)}" alt="{html.escape(task)} plots"></p>']
        best_txt = f"Best run: {best.optimizer}, seed {best.seed}, test score {_fmt(best.score)} (llm={best.llm})."
        if graph is not None:
            report.graphs[task] = graph
            md.append(f"{best_txt} Its traced graph:\n\n![graph of the best run]({graph.name})\n")
            page.append(f"<p>{html.escape(best_txt)}</p><p><img src=\"{html.escape(graph.name)}\"></p>")
        else:
            md.append(f"{best_txt}\n")
            page.append(f"<p>{html.escape(best_txt)}</p>")
    if report.notes:
        md += ["## Notes\n", *[f"- {n}" for n in report.notes], ""]
        page += ["<h2>Notes</h2><ul>", *[f"<li>{html.escape(n)}</li>" for n in report.notes], "</ul>"]
    write_atomic(report.markdown, "\n".join(md) + "\n")
    style = "body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}" \
            "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}"
    write_atomic(report.html, f"<!doctype html><html><head><meta charset=\"utf-8\"><title>Bench report "
                 f"({html.escape(tags)})</title><style>{style}</style></head><body>\n"
                 + "\n".join(page) + "\n</body></html>\n")
    return report
