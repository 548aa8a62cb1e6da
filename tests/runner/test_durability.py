"""Checkpoints are group-committed (atomic at every step, fsync'd at most every
SYNC_EVERY_S and at the run's end), the graph is saved as DOT only, and a pool takes the
longest runs first without changing any result."""

from __future__ import annotations

import os

import pytest
from undertow.bench.runner import make_config, start
from undertow.bench.runner import worker as worker_mod
from undertow.bench.runner.checkpoint import read_json, write_json
from undertow.bench.runner.executor import InlineExecutor
from undertow.bench.runner.runner import longest_first

from .conftest import SMALL


def _fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


@pytest.mark.parametrize(("every", "expected"), [(1e9, 3), (0.0, 3 + 2 * 4)])
def test_fsync_only_at_the_end_unless_the_group_commit_interval_passed(
        tmp_path, quiet, monkeypatch, every: float, expected: int) -> None:
    """steps=3: 4 running saves (step 0..3), each records + checkpoint; the end writes
    graph.dot, records and checkpoint durably. With an interval never reached only those 3
    are fsync'd; with 0 every save is."""
    monkeypatch.setattr(worker_mod, "SYNC_EVERY_S", every)
    config = make_config(["numeric_dag"], ["none"], seeds=1, steps=3, budget="calls=100", **SMALL)
    out = tmp_path / "run"
    (out).mkdir()
    calls = _fsyncs(monkeypatch)
    outcome = start(config, out, console=quiet, executor=InlineExecutor())
    assert outcome.failed == {}
    # config.json, results.jsonl and the sweep's ledger.json are written durably by the
    # runner itself (3 more)
    assert len(calls) == expected + 3
    run = out / "runs" / "numeric_dag__none__s0"
    assert read_json(run / "checkpoint.json")["status"] == "done"
    assert (run / "graph.dot").read_text().startswith("digraph")
    assert not (run / "graph.svg").exists()  # rendered by `bench report`, not per run


def test_a_running_checkpoint_is_compact_and_whole(tmp_path) -> None:
    path = tmp_path / "c.json"
    write_json(path, {"a": [1, 2], "b": "x"}, durable=False, compact=True)
    assert path.read_text() == '{"a":[1,2],"b":"x"}\n'
    assert read_json(path) == {"a": [1, 2], "b": "x"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_longest_first_orders_by_the_estimate_and_keeps_every_run() -> None:
    config = make_config(["word_sorting"], ["none", "textgrad", "optoprime"], seeds=2, steps=2,
                         budget="calls=1000", **SMALL)
    order = [r.optimizer for r in longest_first(config, list(config.runs))]
    assert sorted(order) == sorted(r.optimizer for r in config.runs)
    # textgrad's nominal calls per step x tokens per call are the largest, `none` the least
    assert order[:2] == ["textgrad", "textgrad"] and order[-2:] == ["none", "none"]
    # ties keep the config order (seed 0 before seed 1)
    ids = [r.run_id for r in longest_first(config, list(config.runs))]
    assert ids.index("word_sorting__textgrad__s0") < ids.index("word_sorting__textgrad__s1")
