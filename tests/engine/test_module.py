"""Module: parameter discovery, state dicts, JSON save/load that never half-applies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from undertow.engine import Module, Parameter, StateError, op


class Settings(BaseModel):
    k: int


class Tool(Module):
    def __init__(self):
        self.instruction = Parameter("Use the tool.", name="instruction")


class Agent(Module):
    def __init__(self):
        self.prompt = Parameter("You are helpful.", name="prompt")
        self.temperature = Parameter(0.3, bounds=(0.0, 2.0), name="temperature")
        self.style = Parameter("short", kind="choice", choices=["short", "long"], name="style")
        self.settings = Parameter({"k": 3}, kind="json", schema=Settings, name="settings")
        self.tools = [Tool(), Tool()]
        self.extra = {"retries": Parameter(2, bounds=(0, 5), name="retries")}
        self.alias = self.prompt  # the same parameter twice is listed once

    @op(trainable=True)
    def parse(self, text):
        return text.strip()


def test_named_parameters_finds_nested_and_trainable_methods():
    names = [n for n, _ in Agent().named_parameters()]
    assert names == ["parse.code", "prompt", "temperature", "style", "settings", "tools.0.instruction",
                     "tools.1.instruction", "extra.retries"]


def test_save_load_round_trip(tmp_path):
    a = Agent()
    a.prompt.value = "Be precise."
    a.tools[1].instruction.value = "Call it twice."
    path = a.save(tmp_path / "agent.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == "undertow.module" and doc["parameters"]["temperature"] == {"kind": "float", "value": 0.3}
    b = Agent()
    b.load(path)
    assert b.state_dict() == a.state_dict()


def _write(path, doc):
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.update(format_version=99), "format version 99"),
        (lambda d: d.update(format="something.else"), "not an undertow module file"),
        (lambda d: d["parameters"]["temperature"].update(value=7.0), "outside the bounds"),
        (lambda d: d["parameters"]["temperature"].update(kind="text"), "saved as 'text'"),
        # a file from before choices= set the kind: the error says how to bring it over
        (lambda d: d["parameters"]["style"].update(kind="text"),
         "saved as 'text'.*set its \"kind\" to 'choice' in the file"),
        (lambda d: d["parameters"].pop("style"), "missing \\['style'\\]"),
        (lambda d: d["parameters"]["settings"].update(value={"k": "many"}), "schema check failed"),
    ],
)
def test_bad_files_give_clear_errors_and_change_nothing(tmp_path, mutate, match):
    a = Agent()
    a.prompt.value = "changed before saving"
    doc = json.loads(a.save(tmp_path / "a.json").read_text())
    mutate(doc)
    b = Agent()
    before = b.state_dict()
    with pytest.raises(StateError, match=match):
        b.load(_write(tmp_path / "bad.json", doc))
    assert b.state_dict() == before


def test_non_json_and_missing_files(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(StateError, match="not a JSON module file"):
        Agent().load(tmp_path / "x.json")
    with pytest.raises(StateError, match="no saved module"):
        Agent().load(tmp_path / "missing.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
param_values = st.one_of(
    st.tuples(st.just("text"), st.text()),
    st.tuples(st.just("float"), st.floats(allow_nan=False, allow_infinity=False)),
    st.tuples(st.just("int"), st.integers()),
    st.tuples(st.just("json"), json_values),
)


@given(st.lists(param_values, min_size=1, max_size=6), st.data())
def test_any_parameter_set_round_trips(tmp_path_factory, specs, data):
    class Bag(Module):
        def __init__(self, values):
            self.items = [Parameter(v, kind=k, name=f"p{i}") for i, (k, v) in enumerate(values)]

    src = Bag(specs)
    path = src.save(tmp_path_factory.mktemp("rt") / "bag.json")
    other = [(k, data.draw(st.sampled_from([v]))) for k, v in specs]
    dst = Bag([(k, {"text": "", "float": 0.0, "int": 0, "json": None}[k]) for k, _ in other])
    dst.load(path)
    assert dst.state_dict() == src.state_dict()


def test_load_refuses_deep_nesting_with_a_clear_error(tmp_path):
    from undertow.engine import Module, Parameter, StateError

    class M(Module):
        def __init__(self):
            self.p = Parameter({"a": 1}, name="p")

    m = M()
    path = m.save(tmp_path / "m.json")
    text = path.read_text().replace('"a": 1', '"a": ' + "[" * 100_000 + "]" * 100_000)
    path.write_text(text)
    with pytest.raises(StateError, match="levels deep"):
        m.load(path)
    assert m.p.value == {"a": 1}
