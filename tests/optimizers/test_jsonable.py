"""What optimizers write into their logs stays JSON, whatever the values."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from undertow.engine import Parameter
from undertow.optimizers.base import jsonable

json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)
anything = st.recursive(
    json_data | st.just(math.nan) | st.just(math.inf) | st.builds(object) | st.sets(st.integers(), max_size=3)
    | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)


@given(json_data)
def test_json_data_is_kept_as_it_is(v) -> None:
    assert jsonable(v) is v


@given(anything)
def test_anything_becomes_strict_json(v) -> None:
    json.dumps(jsonable(v), allow_nan=False)


def test_a_refused_list_holding_an_object_is_logged_as_json() -> None:
    """Such a list passed through before (only the outer type was looked at), and the
    log entry then failed to serialize."""
    from undertow.optimizers.base import Optimizer

    class Keep(Optimizer):
        def step(self):
            return []

    p = Parameter(1.5, name="p")
    opt = Keep([p])
    proposal = opt.propose(p, [object()])
    assert not proposal.accepted and p.value == 1.5
    json.dumps(proposal.new, allow_nan=False)
