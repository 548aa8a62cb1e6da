"""The cache key: a canonical hash of every request field, stable across processes."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.llm import LLMRequest, Message, canonical_json, request_key

BASE = LLMRequest(provider="openai", endpoint="https://api.openai.com/v1", model="gpt-4o-mini",
                  messages=(Message(role="user", content="hi"),))

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)

#: For each request field, a strategy of values that field may take.
FIELD_VALUES = {
    "provider": st.sampled_from(["openai", "anthropic", "openai-compatible", "sim"]),
    "endpoint": st.text(min_size=1, max_size=30),
    "model": st.text(min_size=1, max_size=20),
    "messages": st.lists(st.builds(Message, role=st.sampled_from(["system", "user", "assistant"]),
                                   content=st.text(max_size=30),
                                   name=st.none() | st.text(min_size=1, max_size=5)),
                         min_size=1, max_size=3).map(tuple),
    "temperature": st.none() | st.floats(0, 2),
    "top_p": st.none() | st.floats(0, 1),
    "max_tokens": st.none() | st.integers(1, 10**6),
    "stop": st.none() | st.lists(st.text(max_size=5), max_size=3).map(tuple),
    "seed": st.none() | st.integers(-2**31, 2**31),
    "tools": st.none() | st.lists(st.dictionaries(st.text(max_size=5), json_value, max_size=2),
                                  max_size=2).map(tuple),
    "tool_choice": st.none() | st.sampled_from(["auto", "none", "required"]),
    "response_format": st.none() | st.dictionaries(st.text(max_size=5), json_value, max_size=3),
    "sample_index": st.integers(0, 1000),
    "extra": st.dictionaries(st.text(max_size=8), json_value, max_size=3),
}


def test_every_request_field_is_covered() -> None:
    assert set(FIELD_VALUES) == set(LLMRequest.model_fields)


@given(st.data())
def test_changing_any_field_changes_the_key(data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(FIELD_VALUES)))
    a = data.draw(FIELD_VALUES[field])
    b = data.draw(FIELD_VALUES[field])
    ra, rb = BASE.model_copy(update={field: a}), BASE.model_copy(update={field: b})
    same = canonical_json(ra.model_dump(mode="json")) == canonical_json(rb.model_dump(mode="json"))
    assert (request_key(ra) == request_key(rb)) == same
    if a != b and not (isinstance(a, float) and isinstance(b, float) and a == b):
        assert request_key(ra) != request_key(rb), field


@given(st.dictionaries(st.text(max_size=6), json_value, max_size=5))
def test_key_ignores_dict_order(extra: dict) -> None:
    reordered = dict(reversed(list(extra.items())))
    assert request_key(BASE.model_copy(update={"extra": extra})) == \
        request_key(BASE.model_copy(update={"extra": reordered}))


def test_key_is_the_same_in_another_process() -> None:
    code = ("from undertow.engine.llm import LLMRequest, Message, request_key;"
            "print(request_key(LLMRequest(provider='openai', endpoint='https://api.openai.com/v1',"
            "model='gpt-4o-mini', messages=(Message(role='user', content='hi'),))))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123"} | _env()).stdout.strip()
    assert other == request_key(BASE)
    assert len(other) == 64 and int(other, 16) >= 0


def _env() -> dict[str, str]:
    import os
    return dict(os.environ)
