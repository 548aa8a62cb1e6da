"""The profile protocol: skills, cue matching, loading through entry points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim import SimLLM, Skill, cue_in, load_profiles, normalize
from undertow.bench.tasks.reasoning import boolean_expressions as be

words = st.text(alphabet="abcdefghij ", min_size=1, max_size=30)


def test_fix_must_teach_its_skill() -> None:
    with pytest.raises(ValueError, match="contains none of its cues"):
        Skill(name="x", description="d", cues=("alpha beta",), fix="gamma")


def test_each_fix_teaches_only_its_own_skill() -> None:
    for s in be.PROFILE.all_skills():
        assert [t.name for t in be.PROFILE.all_skills() if t.taught_by(s.fix)] == [s.name]


@pytest.mark.parametrize(("cue", "text", "found"), [
    ("and ... before ... or", 'Do "AND" before any "or".', True),
    ("and ... before ... or", "Do and first. Before or after?", False),  # crosses a sentence
    ("answer:", "End with Answer: X", True),
    ("answer:", "Give the answer.", False),
    ("count ... nots", "Count how many nots there are", True),
    ("count ... nots", "Account for knots", False),                    # whole words only
])
def test_cue_matching(cue: str, text: str, found: bool) -> None:
    assert cue_in(cue, text) is found


@given(words, words, words)
def test_a_cue_is_found_inside_any_sentence(before: str, cue: str, after: str) -> None:
    if not normalize(cue):
        return
    assert cue_in(cue, f"{before} {cue} {after}")
    assert normalize(normalize(before)) == normalize(before)


def test_entry_point_loading_and_unique_names() -> None:
    names = [p.name for p in load_profiles()]
    assert "boolean_expressions" in names and names == sorted(names)
    assert [p.name for p in SimLLM().profiles] == names
    with pytest.raises(ValueError, match="two task profiles"):
        SimLLM([be.PROFILE, be.PROFILE])


def test_unknown_skill_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no skill"):
        be.PROFILE.skill("nope")
