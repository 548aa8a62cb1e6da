"""APE: induction requests carry demonstrations (both templates), racing drops the worst
candidates after the first stage, resampling paraphrases the best, state resumes."""

from __future__ import annotations

import pytest
from undertow.engine import Parameter
from undertow.optimizers.prompts import APE

from tests.prompts.helpers import WordProgram, items, scripted, suggest

QUALITY = {"good": 0.7, "fair": 0.3, "bad": 0.0, "start": 0.2, "better": 1.0}


def _induction_llm():
    state = {"n": 0}

    def fn(text: str, request) -> str:
        if "Rewrite the variable above with the same meaning" in text:
            return suggest("p", "good and better")  # resampling
        state["n"] += 1
        return suggest("p", ["good", "fair", "bad one", "bad two", "bad three", "bad four"][(state["n"] - 1) % 6])
    return scripted(fn)


def test_racing_drops_the_worst_early_and_keeps_the_best():
    p = Parameter("start", kind="text", name="p")
    prog = WordProgram([p], QUALITY)
    llm, backend = _induction_llm()
    ape = APE(prog, llm, train=items(40), n_prompts=6, stages=(4, 8, 16), drop=0.5)
    proposals = ape.step()
    assert p.value == "good" and proposals and proposals[0].accepted
    report = {c["value"]: c for c in ape.report()["pool"]}
    for bad in ("bad one", "bad two", "bad three", "bad four"):
        assert report[bad]["dropped_at"] == 4 and report[bad]["items"] == 4
    assert report["good"]["dropped_at"] is None  # the last one standing
    # racing spent fewer rollouts than scoring all 7 candidates on all 16 items
    assert ape.budget["race.rollouts"] < 7 * 16
    assert ape.budget["race.rollouts"] == prog.answered
    # both templates, with demonstrations (inputs and expected outputs) shown
    induce = [s for s in backend.seen if "<expected>" in s]
    assert any("The instruction was" in s for s in induce) and any("Fill in the blank" in s for s in induce)


def test_second_step_resamples_the_best_and_resumes():
    p = Parameter("start", kind="text", name="p")
    prog = WordProgram([p], QUALITY)
    llm, _ = _induction_llm()
    ape = APE(prog, llm, train=items(40), n_prompts=6)
    ape.step()
    state = ape.state_dict()
    ape.step()
    assert p.value == "good and better"
    assert any(c["origin"] == "resample" for c in ape.report()["pool"])
    assert ape.budget["resample.requests"] == ape.keep * ape.n_resample
    # resume from the saved state: the same second step
    p2 = Parameter("start", kind="text", name="p")
    llm2, _ = _induction_llm()
    ape2 = APE(WordProgram([p2], QUALITY), llm2, train=items(40), n_prompts=6)
    ape2.load_state_dict(state)
    assert p2.value == "good"
    ape2.step()
    assert p2.value == "good and better"


def test_bad_settings_are_refused():
    p = Parameter("start", kind="text", name="p")
    llm, _ = _induction_llm()
    with pytest.raises(ValueError, match="stages"):
        APE(WordProgram([p], QUALITY), llm, train=items(4), stages=(8, 4))
    from undertow.optimizers.program import Unlabeled
    with pytest.raises(ValueError, match="metric"):
        APE(Unlabeled(WordProgram([p], QUALITY)), llm, train=items(4))


def test_scores_measured_under_other_values_of_the_other_parameters_are_redone():
    a, b = Parameter("start", kind="text", name="a"), Parameter("start", kind="text", name="b")
    prog = WordProgram([a, b], QUALITY, route=lambda it: "a" if int(it.input[1:]) % 2 else "b")

    def fn(text, request):
        name = "a" if 'name="a"' in text else "b"
        return suggest(name, "fair " + name)
    llm, _ = scripted(fn)
    ape = APE(prog, llm, train=items(40), n_prompts=2)
    ape.step()                      # a: induce and race
    ape.step()                      # b: induce and race (b may change)
    b.set("better b")               # the context of a's scores changes
    a_cands = [c for c in ape.pool if c["param"] == "a"]
    old = {c["value"]: dict(c["scores"]) for c in a_cands}
    ape.step()                      # a again: its racers are re-scored with b = "better b"
    incumbent = next(c for c in ape.pool if c["param"] == "a" and c["value"] == a.value or c["origin"] == "current")
    assert '"better b"' in incumbent["context"]
    assert incumbent["scores"] != old.get(incumbent["value"])  # b's items now answered right
