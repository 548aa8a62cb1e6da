"""Parameter kinds and enforced constraints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from undertow.engine import InvalidValueError, Parameter


class Config(BaseModel):
    temperature: float
    stop: list[str] = []


def test_kinds_are_inferred():
    assert Parameter("hi").kind == "text"
    assert Parameter(1.5).kind == "float"
    assert Parameter(3).kind == "int"
    assert Parameter({"a": 1}).kind == "json"
    assert Parameter(True).kind == "choice"
    with pytest.raises(ValueError, match="pass kind="):
        Parameter(object())


@pytest.mark.parametrize(
    "make, bad, match",
    [
        (lambda: Parameter(0.5, bounds=(0, 1), name="p"), 1.5, "outside the bounds"),
        (lambda: Parameter(0.5, name="p"), "0.7", "expected a number"),
        (lambda: Parameter(0.5, name="p"), float("nan"), "not finite"),
        (lambda: Parameter(3, name="n", bounds=(1, 10)), 2.5, "expected an integer"),
        (lambda: Parameter(3, name="n", bounds=(1, 10)), 11, "outside the bounds"),
        (lambda: Parameter(3, name="n"), True, "expected an integer"),
        (lambda: Parameter("a", kind="choice", choices=["a", "b"], name="c"), "z", "not one of"),
        (lambda: Parameter("short", max_length=10, name="t"), "x" * 11, "max_length"),
        (lambda: Parameter("t", name="t"), 5, "expected a string"),
        (lambda: Parameter({"temperature": 0.1}, kind="json", schema=Config, name="cfg"),
         {"temperature": "hot"}, "schema check failed at temperature"),
    ],
)
def test_invalid_values_raise_and_keep_the_old_value(make, bad, match):
    p = make()
    old, version = p.value, p.version
    with pytest.raises(InvalidValueError, match=match) as info:
        p.value = bad
    assert p.value == old and p.version == version
    assert p.label in str(info.value)


def test_int_accepts_whole_floats_without_truncation():
    p = Parameter(3, name="n")
    p.value = 4.0
    assert p.value == 4 and isinstance(p.value, int)


def test_json_values_are_copied_and_normalized():
    data = {"temperature": 0.2}
    p = Parameter(data, kind="json", schema=Config, name="cfg")
    data["temperature"] = 99
    assert p.value == {"temperature": 0.2, "stop": []}


def test_constraints_are_reported_as_data():
    p = Parameter(0.1, bounds=(0.0, 1.0), name="p")
    assert p.constraints() == {"bounds": [0.0, 1.0]}
    cfg = Parameter({"temperature": 0.1}, kind="json", schema=Config)
    assert "properties" in cfg.constraints()["schema"]


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text() | st.none())
def test_float_parameter_only_ever_holds_valid_values(v):
    p = Parameter(0.5, bounds=(-1.0, 1.0), name="p")
    try:
        p.value = v
    except InvalidValueError:
        assert p.value == 0.5
    else:
        assert isinstance(p.value, float) and -1.0 <= p.value <= 1.0
