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


def test_html_shows_what_each_cells_best_run_learned_and_is_self_contained(tmp_path, quiet):
    import html
    import re

    from undertow.bench.runner import collect
    from undertow.bench.runner.checkpoint import read_json

    config = make_config(["word_sorting", "numeric_dag"], ["textgrad", "mcts", "adam"], seeds=2, steps=2,
                         budget="calls=80", **SMALL)
    start(config, tmp_path / "r", console=quiet, executor=InlineExecutor())
    report = write_report(tmp_path / "r")
    page = report.html.read_text()
    tests = [r for r in collect(tmp_path / "r") if r.split == "test"]
    cells = {(r.task, r.optimizer) for r in tests}
    assert cells == {("word_sorting", "textgrad"), ("word_sorting", "mcts"), ("numeric_dag", "adam"),
                     ("numeric_dag", "textgrad")}
    for task, opt in cells:
        best = max((r for r in tests if (r.task, r.optimizer) == (task, opt)), key=lambda r: (r.score, -r.seed))
        state = read_json(tmp_path / "r" / "runs" / f"{task}__{opt}__s{best.seed}" / "checkpoint.json")
        assert f"{task} · {opt}: best run, seed {best.seed}" in page
        for name, value in state["optimizer"]["parameters"].items():
            shown = html.escape(value) if isinstance(value, str) else f"{value:.6g}"
            assert shown in page, (task, opt, name)  # the final value, in full
    assert "diff from the initial value" in page and "Proposal timeline" in page
    assert "Search tree" in page  # the MCTS cell
    # self-contained: no file or network reference, images inlined
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/") for s in srcs)
    assert "http://" not in page and "https://" not in page
    assert "`" not in page  # Markdown code spans are rendered, not shown as backticks
