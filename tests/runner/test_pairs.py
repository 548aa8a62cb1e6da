"""Every registered task x optimizer pair runs two steps on the simulator.

The real-data tasks (bbh:*, gsm8k) read ../shared/data: each optimizer runs on one of
them (bbh:navigate) and every BBH task the simulator serves runs once; the others need
a real model (tests/tasks/test_real_tasks.py checks that they say so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from undertow.bench.registry import OPTIMIZERS, TASKS, compatible
from undertow.bench.runner import load_jsonl, make_config, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.executor import InlineExecutor
from undertow.bench.runner.real import REAL_TASKS, SIM_SERVED

from .conftest import SMALL

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
PAIRS = [(t.name, o.name) for t in TASKS.values() for o in OPTIMIZERS.values()
         if compatible(t, o) and t.name not in REAL_TASKS and not o.peer
         and t.family != "memory"]  # peers: tests/peers; streams: tests/stream/test_stream_pairs.py
REAL_PAIRS = sorted({("bbh:navigate", o.name) for o in OPTIMIZERS.values() if compatible(TASKS["bbh:navigate"], o) and not o.peer}
                    | {(f"bbh:{t}", "none") for t in SIM_SERVED})
needs_data = pytest.mark.skipif(not (DATA / "bbh").is_dir(), reason="../shared/data is not here")


def test_the_grid_is_not_empty():
    assert ("numeric_dag", "adam") in PAIRS and ("numeric_dag", "sgd") in PAIRS
    assert {t for t, _ in PAIRS} == {n for n, t in TASKS.items() if t.family != "memory"} - set(REAL_TASKS)


@pytest.mark.parametrize(("task", "optimizer"), PAIRS + [pytest.param(*p, marks=needs_data) for p in REAL_PAIRS])
def test_pair_runs_two_steps(task, optimizer, tmp_path, quiet):
    data = str(DATA) if task in REAL_TASKS else None
    config = make_config([task], [optimizer], llm="sim", seeds=1, steps=2, budget="calls=500",
                         data_dir=data, **SMALL)
    outcome = start(config, tmp_path / "run", console=quiet, executor=InlineExecutor())
    assert outcome.failed == {}
    run = tmp_path / "run" / "runs" / f"{task.replace(':', '-')}__{optimizer}__s0"
    state = read_json(run / "checkpoint.json")
    assert state["status"] == "done" and state["step"] == 2 and state["optimizer"]["steps"] == 2
    records = load_jsonl(run / "records.jsonl")
    assert [(r.split, r.step) for r in records] == [("val", 0), ("val", 1), ("val", 2), ("test", 2)]
    assert records[-1].stopped == "steps"
    uses_llm = TASKS[task].uses_llm or OPTIMIZERS[optimizer].uses_llm
    assert all(r.tag == ("llm=sim" if uses_llm else "llm=none") for r in records)
    if TASKS[task].uses_llm:
        # two steps of batch_size forward calls, booked against the budget; scoring is apart
        if OPTIMIZERS[optimizer].uses_llm:
            assert records[-1].calls >= 2 * SMALL["batch_size"]
        elif TASKS[task].family in ("agent", "tools"):  # a multi-step agent: calls per item
            assert records[-1].calls >= 2 * SMALL["batch_size"]
        else:
            assert records[-1].calls == 2 * SMALL["batch_size"]
        assert records[-1].eval_calls >= 3 * SMALL["n_val"]
        assert all(0.0 <= r.score <= 1.0 for r in records)
    assert (run / "graph.dot").read_text().startswith("digraph")
