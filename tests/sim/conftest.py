"""Fixtures of the simulated-LLM tests: a second, unrelated profile to test isolation."""

from __future__ import annotations

import re

import pytest
from undertow.bench.sim import SimLLM, Skill, TaskProfile
from undertow.bench.tasks.reasoning import boolean_expressions as boolexpr


class ParityProfile(TaskProfile):
    """A tiny second task ("the parity of 0110 is"): skill = count the ones."""

    name = "parity"
    description = "say whether a bit string has an even or odd number of ones"
    keywords = ("parity",)
    item_pattern = re.compile(r"the parity of [01]+ is")
    skills = (Skill(name="count_ones", description="count only the ones",
                    cues=("count ... ones",), fix="Count the ones, not the zeros.",
                    keywords=("zeros",), error="counts the zeros"),)

    def solve(self, item: str) -> str:
        bits = re.search(r"[01]+", item)
        if bits is None:
            raise ValueError("no bits")
        return "even" if bits.group(0).count("1") % 2 == 0 else "odd"

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        if "count_ones" in missing:
            bits = re.search(r"[01]+", item).group(0)  # type: ignore[union-attr]
            return "even" if bits.count("0") % 2 == 0 else "odd"
        return self.solve(item)


@pytest.fixture(scope="session")
def parity() -> TaskProfile:
    return ParityProfile()


@pytest.fixture(scope="session")
def sim() -> SimLLM:
    return SimLLM([boolexpr.PROFILE])


def fixes(*names: str) -> str:
    """A prompt made of the fix sentences of the named boolean-expression skills."""
    return " ".join(boolexpr.PROFILE.skill(n).fix for n in names)


ALL_SKILLS = tuple(s.name for s in boolexpr.PROFILE.all_skills())
