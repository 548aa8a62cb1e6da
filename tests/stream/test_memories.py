"""ExpRAG and ReMem on real streams over the simulated LLM (llm=sim)."""

from __future__ import annotations

import sqlite3

import pytest
from undertow.bench.runner.baseline import KeepOptimizer
from undertow.optimizers.experience import ExperienceStore, Trajectory
from undertow.optimizers.experience.stream import SCOPE, ReMem, atomic_ops, render_experience

from .conftest import memory, play, stream_run


def _dump(store: ExperienceStore) -> list:
    conn = sqlite3.connect(store.path)
    try:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()  # noqa: S608 - fixed names
                for t in ("records", "versions", "events", "generations")]
    finally:
        conn.close()


def test_exprag_keeps_failures_and_successes_with_their_feedback(tmp_path):
    run = stream_run(0, tmp_path)
    with ExperienceStore(tmp_path / "m.db", ids="sequential") as store:
        opt = memory("exprag", run, store)
        play(run, opt, steps=2)  # 24 items
        kept = store.records(kinds=["trajectory"], scope=SCOPE)
        assert len(kept) == 24 == len(run.results)
        failures = [r for r in kept if r.reward < 0.5]
        assert failures and any(r.reward >= 1.0 for r in kept)
        assert all(r.meta["feedback"].startswith("Wrong: expected") for r in failures)
        # a failure comes back for its own item, feedback included
        text = opt.context_for(failures[0].input)
        assert render_experience(failures[0]) in text and "Wrong: expected" in text
        assert opt.memory_size() == {"trajectory": 24}


def test_remem_reflects_on_failures_into_insights_and_beats_no_memory(tmp_path):
    accs = {}
    for seed in (0, 1):
        none_run = stream_run(seed, tmp_path / f"n{seed}")
        accs.setdefault("none", []).append(play(none_run, KeepOptimizer(none_run.parameters)))
        run = stream_run(seed, tmp_path / f"r{seed}")
        with ExperienceStore(tmp_path / f"r{seed}.db", ids="sequential") as store:
            opt = memory("remem", run, store)
            accs.setdefault("remem", []).append(play(run, opt))
            insights = store.records(kinds=["insight"], statuses=["active"], scope=SCOPE)
            assert insights and opt.failed_ops == 0
            assert any("Insights from earlier items" in opt.context_for(i.example.input) for i in run.items[:3])
    assert sum(accs["remem"]) / 2 > sum(accs["none"]) / 2 + 0.2, accs


def test_exprag_with_relevant_experiences_beats_none_and_irrelevant_ones_do_not(tmp_path):
    """What helps is retrieving experiences of the item's kind: a memory of the same size
    from another task gives much less (a retrieval that returned nothing, or the wrong
    records, fails this). Streams of boolean expressions, 3 seeds (bench/stream_evidence.py)."""
    from undertow.bench.stream_evidence import warm_start

    got = warm_start(tmp_path)["mean"]
    assert got["relevant"] > got["none"] + 0.15, got
    assert got["relevant"] > got["other"] + 0.1, got


class _FailingStore(ExperienceStore):
    """A store whose n-th write of a record version raises (a crash in the middle of ops)."""

    fail_at = 2

    def update(self, *args, **kwargs):
        self.fail_at -= 1
        if self.fail_at <= 0:
            raise OSError("disk went away")
        return super().update(*args, **kwargs)


def test_remem_ops_apply_atomically_a_failing_op_changes_nothing(tmp_path):
    run = stream_run(0, tmp_path)
    with _FailingStore(tmp_path / "m.db", ids="sequential") as store:
        opt = ReMem(run.parameters, store=store, llm=run.llm, base_prompt="p", cap=10)
        store.fail_at = 100
        first = opt.refine([{"op": "ADD", "explanation": "Evaluate every and before any or.", "condition": "bool"}])
        rid = first.added[0]
        store.commit_generation("one")
        before = _dump(store)
        store.fail_at = 2  # the ADD's status writes pass... the EDIT's write raises
        report = opt.refine([{"op": "UPVOTE", "id": rid}, {"op": "ADD", "explanation": "Sort letter by letter."},
                             {"op": "EDIT", "id": rid, "explanation": "And binds tighter than or."}])
        assert opt.failed_ops == 1 and "disk went away" in report.dropped[0][1]
        assert _dump(store) == before  # nothing of the three ops is left
        store.fail_at = 100
        again = opt.refine([{"op": "EDIT", "id": rid, "explanation": "And binds tighter than or."}])
        assert again.applied == [f"EDIT {rid}"] and store.get(rid).explanation == "And binds tighter than or."


def test_atomic_ops_keeps_good_blocks_and_reraises(tmp_path):
    with ExperienceStore(tmp_path / "m.db") as store:
        with atomic_ops(store):
            store.add(Trajectory(input="a", output="b", status="active", scope=SCOPE))
        assert len(store.records()) == 1
        with pytest.raises(RuntimeError), atomic_ops(store):
            store.add(Trajectory(input="c", output="d", status="active", scope=SCOPE))
            raise RuntimeError("boom")
        assert [r.input for r in store.records()] == ["a"]  # type: ignore[attr-defined]
