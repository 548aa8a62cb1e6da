"""AutoLibra end to end on the sim: the induced metrics recover the planted failure modes;
feedback tied to the wrong runs (a broken grounding) does not."""

from __future__ import annotations

import pytest
from undertow.bench.metrics_evidence import recovery
from undertow.engine.llm import make_llm
from undertow.optimizers.metrics import MetricFeedback, induce


@pytest.fixture(scope="module")
def induced(sim_runs):
    llm = make_llm("sim", cache_dir=False, seed=0)
    return induce([t for t, _ in sim_runs], llm, llm_name="sim", seed=0), llm


def test_recovers_planted_modes(induced, sim_runs) -> None:
    mset, llm = induced
    rec = recovery(mset, sim_runs, llm)
    assert rec["recall"] >= 0.8 and rec["precision"] >= 0.6, rec
    assert mset.tag == "llm=sim" and mset.skipped_replies <= 2  # an odd reply entry is skipped, counted


def test_coverage_rises_then_stops(induced) -> None:
    mset, _ = induced
    covs = [it.coverage for it in mset.iterations]
    assert len(covs) >= 2 and covs[1] > covs[0] and covs[-1] <= max(covs)
    best = max(mset.iterations, key=lambda it: it.coverage)
    assert [m.name for m in mset.metrics] == [m.name for m in best.metrics]
    assert all(0.0 <= it.redundancy <= 1.0 for it in mset.iterations)


def test_feedback_on_the_wrong_runs_covers_less(induced, sim_runs) -> None:
    mset, _ = induced
    trajs = [t for t, _ in sim_runs]
    shifted = [t.model_copy(update={"feedback": trajs[(i + 1) % len(trajs)].feedback}) for i, t in enumerate(trajs)]
    broken = induce(shifted, make_llm("sim", cache_dir=False, seed=0), seed=0)
    assert max(it.coverage for it in broken.iterations) + 0.2 < max(it.coverage for it in mset.iterations)


def test_metric_feedback_text_and_score(induced, sim_runs) -> None:
    mset, llm = induced
    fb = MetricFeedback(mset.metrics, llm)
    bad = next(t for t, q in sim_runs if t.score == 0.0)
    good = next(t for t, q in sim_runs if t.score == 1.0)
    f_bad, f_good = fb(bad), fb(good)
    assert "BAD" in f_bad and f_bad.score is not None and f_good.score is not None
    assert f_bad.score < f_good.score
    assert any(m.definition in f_bad for m in mset.metrics)
    assert f_bad.index("BAD") < f_bad.index("Good") if "Good" in f_bad else True
    with pytest.raises(ValueError, match="at least one metric"):
        MetricFeedback([], llm)


def test_induce_rejects_runs_without_feedback(sim_runs) -> None:
    with pytest.raises(ValueError, match="no trajectory has feedback"):
        induce([sim_runs[0][0].model_copy(update={"feedback": ""})], make_llm("sim", cache_dir=False))
    with pytest.raises(ValueError, match="at least one"):
        induce([], make_llm("sim", cache_dir=False))


def test_same_seed_same_metrics(induced, sim_runs) -> None:
    mset, _ = induced
    again = induce([t for t, _ in sim_runs], make_llm("sim", cache_dir=False, seed=0), llm_name="sim", seed=0)
    assert again.model_dump() == mset.model_dump()
