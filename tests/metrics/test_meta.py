"""Coverage and redundancy on hand-built data (exact values)."""

from __future__ import annotations

import pytest
from undertow.optimizers.metrics import Behaviour, Metric, assign, coverage, covered, lexical_match, redundancy


def b(traj: str, pol: str, text: str) -> Behaviour:
    return Behaviour(trajectory=traj, polarity=pol, text=text)  # type: ignore[arg-type]


METRICS = [Metric(name="repeats", definition="calls the same tool again"),
           Metric(name="units", definition="gives the unit of measurement"),
           Metric(name="politeness", definition="is polite")]
BEHAVIOURS = [b("t1", "negative", "called the same tool twice"), b("t1", "positive", "gave the unit kilograms"),
              b("t2", "negative", "the unit was missing"), b("t2", "negative", "something nobody measures")]
JUDGED = {("t1", "repeats"): "negative", ("t1", "units"): "positive", ("t2", "units"): "positive",
          ("t2", "repeats"): "n/a", ("t1", "politeness"): "positive", ("t2", "politeness"): "positive"}


def test_exact_values() -> None:
    assignment = ["repeats", "units", "units", None]
    assert covered(BEHAVIOURS, assignment, JUDGED) == [True, True, False, False]
    assert coverage(BEHAVIOURS, assignment, JUDGED) == 0.5
    assert redundancy(METRICS, BEHAVIOURS, assignment, JUDGED) == pytest.approx(1 / 3)
    judged = {**JUDGED, ("t2", "units"): "negative"}
    assert coverage(BEHAVIOURS, assignment, judged) == 0.75


def test_empty_and_mismatch() -> None:
    assert coverage([], [], {}) == 0.0 and redundancy([], BEHAVIOURS, [None] * 4, {}) == 0.0
    assert redundancy(METRICS, [], [], {}) == 1.0
    with pytest.raises(ValueError, match="assignments"):
        coverage(BEHAVIOURS, [None], JUDGED)


def test_assign_prefers_membership_then_words() -> None:
    assert lexical_match(BEHAVIOURS[0], METRICS) == "repeats"
    assert lexical_match(BEHAVIOURS[3], METRICS) is None
    assert assign(BEHAVIOURS, METRICS, {0: "politeness", 3: "gone"}) == ["politeness", "units", "units", None]
