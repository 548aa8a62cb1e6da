"""QDAIF, QDHF and the baselines end to end on the simulated LLM (llm=sim)."""

from __future__ import annotations

import numpy as np
import pytest

from undertow.bench.qd_evidence import build, run
from undertow.bench.tasks.stories import task as stories
from undertow.engine.llm import make_llm
from undertow.optimizers.qd import QDAIF, QDHF, archive_parameter
from undertow.optimizers.qd import prompts as P

SEEDS = (0, 1, 2)
CALLS = 160


@pytest.fixture(scope="module")
def results():
    return {(m, s): run(m, s, CALLS) for m in ("qdaif", "random", "single") for s in SEEDS}


def test_qdaif_covers_more_than_random_and_single_at_matched_calls(results):
    cov = {m: np.mean([results[(m, s)]["coverage"][-1] for s in SEEDS]) for m in ("qdaif", "random", "single")}
    qd = {m: np.mean([results[(m, s)]["qd_score"][-1] for s in SEEDS]) for m in ("qdaif", "random", "single")}
    assert cov["qdaif"] > cov["random"] + 0.03, cov
    assert cov["random"] > cov["single"], cov
    assert qd["qdaif"] > qd["random"] > qd["single"], qd
    for s in SEEDS:                                    # calls matched: nobody overshoots the grid
        for m in ("qdaif", "random", "single"):
            assert results[(m, s)]["grid"][-1] == CALLS


def test_mutation_that_ignores_its_target_loses_the_edge(monkeypatch, results):
    """A broken mutation (the target cell dropped from the request) must cost QDAIF its lead."""
    real = P.mutate
    monkeypatch.setattr(P, "mutate", lambda problem, parent, target: real(problem, parent, None))
    monkeypatch.setattr(P, "crossover", lambda problem, a, b, target: P.generate(problem))
    broken = np.mean([run("qdaif", s, CALLS)["coverage"][-1] for s in SEEDS])
    good = np.mean([results[("qdaif", s)]["coverage"][-1] for s in SEEDS])
    assert good > broken + 0.03, (good, broken)


def _search(cls, seed=0, **kw):
    llm = make_llm("sim", cache_dir=False, seed=seed)
    return cls([archive_parameter()], llm, stories.problem(seed), seed=seed, **kw)


@pytest.mark.parametrize("method", ["qdaif", "qdhf"])
def test_resume_continues_exactly(method):
    def fresh():
        return build(method, make_llm("sim", cache_dir=False, seed=4), 4)

    a = fresh()
    for _ in range(6):
        a.step()
    b = fresh()
    for _ in range(3):
        b.step()
    c = fresh()
    c.load_state_dict(b.state_dict())
    for _ in range(3):
        c.step()
    assert [x.text for x in c.candidates] == [x.text for x in a.candidates]
    assert np.array_equal(c.archive.payload, a.archive.payload)
    assert c.calls == a.calls and c.history == a.history


def test_every_candidate_is_logged_and_calls_counted():
    s = _search(QDAIF, batch=3, init=3)
    for _ in range(4):
        s.step()
    assert len([p for p in s.log if p.new]) == len(s.candidates) == 12
    assert {p.meta["op"] for p in s.log} >= {"generate", "mutate"}
    assert s.calls == s.llm.accounting.spent().calls == 12 * (2 + len(stories.AXES))
    elites = s.elites()
    assert len(elites) == len(s.archive.filled) and all(0 <= e["quality"] <= 1 for e in elites)
    value = s.parameters[0].value
    assert len(value["candidates"]) == 12 and sorted(value["elites"]) == sorted(int(s.archive.payload[c]) for c in s.archive.filled)


def test_qdhf_learns_axes_from_sim_triplets():
    s = _search(QDHF, init=8, triplets=24, refit_every=3)
    for _ in range(8):
        s.step()
    assert s.w is not None and len(s.triplets) >= 24
    assert s.fit_accuracy > 0.7
    assert s.archive.coverage() > 0.3                  # quantile bins spread the pool
    assert all(c.cell >= 0 for c in s.candidates)


def test_bad_construction_is_refused():
    from undertow.engine import Parameter

    llm = make_llm("sim", cache_dir=False)
    with pytest.raises(ValueError, match="one json parameter"):
        QDAIF([Parameter("x", "text")], llm, stories.problem(0))
    with pytest.raises(ValueError, match="batch"):
        QDAIF([archive_parameter()], llm, stories.problem(0), batch=0)
