"""Report generation on a small real run: the files exist and the leaderboard's
numbers are the ones in the JSONL."""

from __future__ import annotations

import json
import statistics

from undertow.bench.runner import make_config, start, write_report
from undertow.bench.runner.executor import InlineExecutor

from .conftest import SMALL


def test_report_files_and_numbers_match_the_jsonl(tmp_path, quiet):
    config = make_config(["word_sorting", "numeric_dag"], ["none", "adam"], seeds=3, steps=2,
                         budget="calls=100", **SMALL)
    start(config, tmp_path / "r", console=quiet, executor=InlineExecutor())
    report = write_report(tmp_path / "r")
    for path in (report.markdown, report.html, *report.plots):
        assert path.is_file() and path.stat().st_size > 0
    assert {p.name for p in report.plots} == {"word_sorting.png", "numeric_dag.png"}
    md, page = report.markdown.read_text(), report.html.read_text()

    lines = [json.loads(x) for x in (tmp_path / "r" / "results.jsonl").read_text().splitlines()]
    for task, opt in (("word_sorting", "none"), ("numeric_dag", "none"), ("numeric_dag", "adam")):
        scores = [x["score"] for x in lines if (x["task"], x["optimizer"], x["split"]) == (task, opt, "test")]
        assert len(scores) == 3
        row = next(r for r in report.rows if (r.task, r.optimizer) == (task, opt))
        assert row.mean == statistics.fmean(scores) and row.sd == statistics.stdev(scores)
        shown = f"{row.mean:.3f} ± {row.sd:.3f}"  # one number format everywhere
        assert shown in md and shown in page
    # the simulator's results say so everywhere
    assert "llm=sim" in md.splitlines()[0] and "## word_sorting (llm=sim)" in md
    assert "| llm=sim |" in md and "<td>llm=sim</td>" in page
    assert all(x["tag"] == "llm=sim" for x in lines if x["task"] == "word_sorting")
    # rows of one task are ranked best first
    dag = [r for r in report.rows if r.task == "numeric_dag"]
    assert [r.mean for r in dag] == sorted((r.mean for r in dag), reverse=True)
    if report.graphs:
        assert all(p.read_text().lstrip().startswith(("<?xml", "<svg")) for p in report.graphs.values())
    else:
        assert any("graphviz" in n for n in report.notes)


def test_plot_titles_say_llm_sim(tmp_path, quiet, monkeypatch):
    import matplotlib.axes

    titles: list[str] = []
    real = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title",
                        lambda self, label, *a, **k: titles.append(label) or real(self, label, *a, **k))
    config = make_config(["word_sorting"], ["none"], seeds=1, steps=1, **SMALL)
    start(config, tmp_path / "r", console=quiet, executor=InlineExecutor())
    write_report(tmp_path / "r")
    # the simulator costs nothing: one panel (score vs calls), no cost panel repeating it
    assert len(titles) == 1 and all("llm=sim" in t for t in titles) and "LLM calls" in titles[0]
