"""OpenTelemetry export through the SDK's in-memory exporter (llm=sim)."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from undertow.bench.runner import BenchError, make_config, start
from undertow.bench.runner.executor import InlineExecutor, make_executor
from undertow.bench.runner.show import describe
from undertow.engine.otel import OpenTelemetryCallback

from .conftest import SMALL


def test_spans_for_runs_steps_proposals_and_llm_calls(tmp_path, quiet):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = make_config(["word_sorting"], ["textgrad"], seeds=1, budget="calls=200", steps=2, **SMALL)
    start(config, tmp_path / "o", console=quiet, executor=InlineExecutor(),
          callbacks=[OpenTelemetryCallback(provider)])
    spans = exporter.get_finished_spans()
    by_name = lambda prefix: [s for s in spans if s.name.startswith(prefix)]  # noqa: E731
    (run,) = by_name("undertow.run ")
    assert run.attributes["undertow.optimizer"] == "textgrad" and run.attributes["undertow.llm"] == "sim"
    assert run.attributes["undertow.status"] == "done"
    steps = by_name("undertow.step ")
    assert [s.attributes["undertow.step"] for s in steps] == [1, 2]
    assert all(s.parent.span_id == run.context.span_id for s in steps)
    assert all(0 <= s.attributes["undertow.score"] <= 1 for s in steps)

    data = describe(tmp_path / "o" / "runs" / "word_sorting__textgrad__s0")
    proposals = by_name("undertow.proposal ")
    assert len(proposals) == len(data["proposals"]) > 0
    step_ids = {s.context.span_id for s in steps}
    assert all(p.parent.span_id in step_ids for p in proposals)
    assert [p.attributes["undertow.proposal.accepted"] for p in proposals] == [q["accepted"] for q in data["proposals"]]

    calls = by_name("chat ")
    assert calls and all(c.attributes["gen_ai.operation.name"] == "chat" for c in calls)
    assert {c.attributes["gen_ai.request.model"] for c in calls} == {"sim"}
    for c in calls:
        assert c.attributes["gen_ai.usage.input_tokens"] > 0 and c.attributes["gen_ai.usage.output_tokens"] > 0
        assert c.attributes["undertow.llm.cache_hit"] in (True, False) and "gen_ai.usage.cost" in c.attributes
        assert c.parent is not None and c.start_time <= c.end_time
    # every LLM call is a span: the run's booked calls (+1: the forward pass traced for the
    # graph drawing after the test score) and the eval calls
    purposes = [c.attributes["undertow.llm.purpose"] for c in calls]
    test = data["steps"][-1]
    assert sum(p != "eval" for p in purposes) == test["calls"] + 1
    assert purposes.count("eval") == test["eval_calls"]


def test_an_otel_callback_is_refused_with_worker_processes(tmp_path, quiet):
    config = make_config(["word_sorting"], ["none"], seeds=2, budget="calls=10", steps=1, **SMALL)
    with pytest.raises(BenchError, match="--workers 1"):
        start(config.model_copy(update={"workers": 2}), tmp_path / "p", console=quiet, executor=make_executor(2),
              callbacks=[OpenTelemetryCallback(TracerProvider())])


def test_cli_otel_console_prints_spans_and_a_bad_exporter_is_one_line(tmp_path):
    from typer.testing import CliRunner
    from undertow.bench.bench_cli import bench_app

    runner = CliRunner()
    args = ["run", "-t", "word_sorting", "-o", "none", "--steps", "1", "--n-train", "4", "--n-val", "2",
            "--n-test", "2"]
    result = runner.invoke(bench_app, [*args, "--out", str(tmp_path / "c"), "--otel", "console"])
    assert result.exit_code == 0, result.output
    assert '"name": "undertow.run word_sorting__none__s0"' in result.stdout
    assert '"gen_ai.request.model": "sim"' in result.stdout
    bad = runner.invoke(bench_app, [*args, "--out", str(tmp_path / "x"), "--otel", "jaeger"])
    assert bad.exit_code == 2 and "use console or otlp" in bad.stderr and not (tmp_path / "x").exists()
