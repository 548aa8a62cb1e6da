"""`undertow bench` runs the QD searches on qd_stories; results say llm=sim."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from undertow.bench.registry import OPTIMIZERS, TASKS, compatible
from undertow.bench.runner import make_config, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.executor import InlineExecutor
from undertow.bench.runner.records import load_jsonl


def test_registered_and_listed():
    assert {"qdaif", "qdhf", "qd_random", "qd_single"} <= set(OPTIMIZERS)
    qd = TASKS["qd_stories"]
    assert [o for o in OPTIMIZERS.values() if compatible(qd, o)] == \
        [OPTIMIZERS[n] for n in ("qdaif", "qdhf", "qd_random", "qd_single")]
    assert not compatible(TASKS["word_sorting"], OPTIMIZERS["qdaif"])
    from undertow.bench.cli import app

    out = CliRunner().invoke(app, ["bench", "list", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert "qd_stories" in [t["name"] for t in data["tasks"]]
    assert {"qdaif", "qdhf"} <= {o["name"] for o in data["optimizers"]}


def test_bench_run_writes_scores_metrics_and_heatmap(tmp_path, quiet):
    config = make_config(["qd_stories"], ["qdaif", "qd_random"], llm="sim", seeds=1, steps=3, budget="calls=45")
    outcome = start(config, tmp_path / "run", console=quiet, executor=InlineExecutor())
    assert outcome.failed == {}
    for name in ("qdaif", "qd_random"):
        run = tmp_path / "run" / "runs" / f"qd_stories__{name}__s0"
        records = load_jsonl(run / "records.jsonl")
        assert records[0].score == 0.0 and records[-1].split == "test" and 0 < records[-1].score <= 1
        assert all(r.tag == "llm=sim" for r in records) and records[-1].calls <= 45
        metrics = json.loads((run / "qd_metrics.json").read_text())
        assert metrics["llm"] == "llm=sim" and 0 < metrics["reference"]["coverage"] <= 1
        assert (run / "archive_heatmap.png").read_bytes()[:4] == b"\x89PNG"
        state = read_json(run / "checkpoint.json")
        # a step cut by the budget is dropped, its calls stay booked
        assert state["optimizer"]["extra"]["calls"] <= records[-1].calls


def test_report_shows_the_archive_heatmap(tmp_path, quiet):
    from undertow.bench.runner.report import write_report

    config = make_config(["qd_stories"], ["qdaif"], llm="sim", seeds=1, steps=2, budget="calls=40")
    assert start(config, tmp_path / "run", console=quiet, executor=InlineExecutor()).failed == {}
    report = write_report(tmp_path / "run")
    md = report.markdown.read_text()
    assert "qd_stories_archive_heatmap.png" in md and "llm=sim" in md
    assert (report.folder / "qd_stories_archive_heatmap.png").is_file()
    assert "data:image/png" in report.html.read_text()
