"""Feedback: text that carries a score, readable by text and numeric optimizers alike."""

from __future__ import annotations

import json
import pickle

from hypothesis import given
from hypothesis import strategies as st
from undertow.engine import Feedback, Parameter, backward
from undertow.optimizers.blackbox import feedback_score


@given(st.text(), st.none() | st.floats(allow_nan=False, allow_infinity=False))
def test_feedback_is_its_text_and_keeps_its_score(text, score):
    fb = Feedback(text, score)
    assert fb == text and fb.sentence == text and type(fb.sentence) is str
    assert fb.score == score
    assert json.loads(json.dumps(fb)) == text
    back = pickle.loads(pickle.dumps(fb))
    assert back == text and back.score == score
    assert feedback_score(fb) == score


def test_feedback_flows_through_backward_to_both_kinds_of_reader():
    x = Parameter(2, bounds=(0, 9), name="x")
    backward(x * 3, Feedback("too large", score=-6.0))
    (received,) = x.feedback
    (item,) = received.feedback
    assert f"{item}" == "too large" and feedback_score(item) == -6.0
