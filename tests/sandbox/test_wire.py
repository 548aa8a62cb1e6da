"""The boundary format: plain data round-trips exactly; nothing else gets through."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.sandbox import wire

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
           | st.binary(max_size=8) | st.complex_numbers(allow_nan=False))
hashables = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.binary(max_size=5)
plain = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=4) | st.tuples(inner, inner)
                   | st.dictionaries(hashables, inner, max_size=4)
                   | st.frozensets(hashables, max_size=4) | st.sets(hashables, max_size=4)),
    max_leaves=20,
)


@given(plain)
def test_plain_data_round_trips_exactly(value):
    assert wire.plain_problem(value) is None
    back = wire.loads(wire.encode_frame(value)[wire.HEADER_SIZE:])
    assert back == value and type(back) is type(value)


class Custom:
    pass


@given(plain, st.sampled_from([Custom(), len, pickle, range(3), bytearray(b"x")]))
def test_a_non_plain_value_is_named_by_its_path(value, bad):
    wrapped = {"outer": [value, bad]}
    problem = wire.plain_problem(wrapped, "args")
    assert problem is not None and problem.startswith("args['outer'][1] is a ")
    assert "only plain data" in problem


@given(st.binary(max_size=200))
def test_the_reader_never_imports_and_survives_junk(junk):
    try:
        wire.loads(junk)
    except Exception as exc:  # noqa: BLE001 - any clean error is fine; code execution is not
        assert not isinstance(exc, SystemExit)


def test_the_reader_refuses_classes():
    with pytest.raises(pickle.UnpicklingError, match="refused to load"):
        wire.loads(pickle.dumps(Custom()))
    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        wire.loads(b"cos\nsystem\n(S'echo hacked'\ntR.")


def test_cycles_and_depth():
    a: list = []
    a.append(a)
    assert wire.plain_problem(a) is None
    deep: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    assert "deeper than" in (wire.plain_problem(deep) or "")
