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


def test_choices_or_a_schema_set_the_kind_when_none_is_given():
    mode = Parameter("fast", choices=["fast", "slow"], name="mode")
    assert mode.kind == "choice"
    with pytest.raises(InvalidValueError, match="not one of the choices"):
        mode.value = "medium"
    assert Parameter(0.5, choices=[0.1, 0.5]).kind == "choice"
    cfg = Parameter({"temperature": 0.1}, schema=Config, name="cfg")
    assert cfg.kind == "json"
    with pytest.raises(InvalidValueError, match="schema check failed"):
        cfg.value = {"temperature": "hot"}


@pytest.mark.parametrize("kwargs, key", [
    (dict(value="abc", bounds=(0, 1)), "bounds"),
    (dict(value=0.5, kind="float", choices=[0.1, 0.5]), "choices"),
    (dict(value=1.0, max_length=3), "max_length"),
    (dict(value="x", kind="text", schema=Config), "schema"),
    (dict(value="def f(x):\n    return x\n", kind="text", signature_of="def f(x): pass"), "signature_of"),
    (dict(value=3, kind="choice", choices=[3], bounds=(0, 5)), "bounds"),
])
def test_a_constraint_the_kind_never_checks_is_refused(kwargs, key):
    """Kept silently, it would be shown to optimizers as a constraint and never enforced."""
    with pytest.raises(ValueError, match=rf"got {key}=, which only kind=.* checks: drop {key}=") as info:
        Parameter(name="p", **kwargs)
    assert "'p'" in str(info.value)


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
