"""Property tests of the budget parser and of record validation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from undertow.bench.runner import (
    BenchError,
    StepRecord,
    format_budget,
    load_jsonl,
    parse_budget,
)
from undertow.engine.llm import Budget

budgets = st.builds(
    Budget,
    max_calls=st.none() | st.integers(1, 10**9),
    max_tokens=st.none() | st.integers(1, 10**12),
    max_usd=st.none() | st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False),
).filter(lambda b: any(v is not None for v in (b.max_calls, b.max_tokens, b.max_usd)))


@given(budgets)
def test_budget_round_trips(budget):
    assert parse_budget(format_budget(budget)) == budget


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_with_a_bench_error(text):
    try:
        budget = parse_budget(text)
    except BenchError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert isinstance(budget, Budget)


@pytest.mark.parametrize("text", ["calls=0", "tokens=0", "usd=0", "usd=0.0", "calls=5,usd=0"])
def test_a_budget_of_zero_is_refused(text):
    with pytest.raises(BenchError, match="budget of zero"):
        parse_budget(text)


@pytest.mark.parametrize("text", ["calls=-1", "calls=1.5", "usd=nan", "usd=inf", "dollars=3", "calls", "",
                                  "calls=1,calls=2"])
def test_bad_budgets_name_the_problem(text):
    with pytest.raises(BenchError):
        parse_budget(text)


BASE = {"task": "t", "optimizer": "o", "llm": "sim", "budget": "calls=1", "seed": 0, "step": 0,
        "split": "val", "score": 0.5, "calls": 0, "tokens": 0, "cost_usd": 0.0, "eval_calls": 0,
        "wall_s": 0.0}


@given(st.text(max_size=30), st.floats(allow_nan=True, allow_infinity=True))
def test_records_tag_their_llm_and_refuse_non_finite_scores(llm, score):
    try:
        record = StepRecord(**{**BASE, "llm": llm, "score": score})
    except ValidationError:
        assert not math.isfinite(score)
    else:
        assert record.tag == f"llm={llm}"
        assert StepRecord.model_validate_json(record.model_dump_json()) == record


def test_a_wrong_tag_is_refused():
    with pytest.raises(ValidationError):
        StepRecord(**{**BASE, "tag": "llm=openai:gpt-4o"})


@given(st.text(max_size=200))
def test_a_corrupt_jsonl_line_is_a_bench_error_naming_the_line(tmp_path_factory, junk):
    path = tmp_path_factory.mktemp("j") / "r.jsonl"
    good = StepRecord(**BASE).model_dump_json()
    path.write_text(f"{good}\n{junk.replace(chr(10), ' ')}\n")
    try:
        records = load_jsonl(path)
    except BenchError as exc:
        assert f"{path}:2:" in str(exc)
    else:
        assert records[0] == StepRecord(**BASE)
