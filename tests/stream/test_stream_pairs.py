"""Every optimizer the stream task admits runs it through the bench runner (llm=sim), and the
pairs that cannot work are not offered (so `-o all` never schedules a failing run)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from undertow.bench.entries.stream import STREAM_OPTIMIZERS
from undertow.bench.registry import OPTIMIZERS, TASKS, compatible, default_optimizers, pairs
from undertow.bench.runner import load_jsonl, make_config, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.executor import InlineExecutor


def test_only_working_pairs_are_offered():
    stream = TASKS["stream"]
    assert {o.name for o in OPTIMIZERS.values() if compatible(stream, o)} == STREAM_OPTIMIZERS
    everything = pairs(list(TASKS), default_optimizers())
    for task, opt in everything:
        if opt in ("exprag", "remem"):
            assert task == "stream"
        if opt in ("experience", "bootstrap"):
            assert TASKS[task].family in ("reasoning", "real data")
    assert ("two_prompt", "experience") not in everything


@pytest.mark.parametrize("optimizer", sorted(STREAM_OPTIMIZERS))
def test_stream_pair_runs_two_steps(optimizer, tmp_path):
    config = make_config(["stream"], [optimizer], llm="sim", seeds=1, steps=2, budget="calls=500")
    outcome = start(config, tmp_path / "run", console=Console(file=io.StringIO()), executor=InlineExecutor())
    assert outcome.failed == {}
    run = tmp_path / "run" / "runs" / f"stream__{optimizer}__s0"
    state = read_json(run / "checkpoint.json")
    assert state["status"] == "done" and state["step"] == 2 and len(state["agent"]["results"]) == 60
    records = load_jsonl(run / "records.jsonl")
    assert [(r.split, r.step) for r in records] == [("val", 0), ("val", 1), ("val", 2), ("test", 2)]
    assert all(r.tag == "llm=sim" for r in records) and all(0.0 <= r.score <= 1.0 for r in records)
    assert records[-1].calls >= 60  # one budgeted answer per item, reflections on top
    # the test score is the accuracy over the stream, the last val over the items answered: the same here
    assert records[-1].score == pytest.approx(records[-2].score)
