"""Findings 2 and 3 of issue 12: parameter names are unique paths; trainable methods
belong to each instance.

Inherited, overridden, nested and composed modules list every parameter once under
a unique dotted path from the root, so `save`/`load` round-trip all of them; each
instance (and each copy) owns the code parameter of its trainable methods unless the
method says `shared=True`.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.engine import Module, Parameter, op


class Base(Module):
    def __init__(self) -> None:
        self._param = Parameter("base text", name="param")

    @op(trainable=True)
    def method1(self, x):
        return x

    @op(trainable=True)
    def method2(self, x):
        return x


class Child(Base):
    """Inherits the trainable methods and holds a `Base` as an attribute (Trace-style)."""

    def __init__(self) -> None:
        super().__init__()
        self._base = Base()
        self.extra = Parameter("child text", name="extra")


class Override(Base):
    @op(trainable=True)
    def method1(self, x):
        return Base.method1(self, x) + 1  # (zero-argument super() cannot be recompiled)


def _bump_code(p: Parameter) -> None:
    p.value = p.value.rstrip("\n") + "  # tuned\n"


def test_inherited_methods_get_paths_from_the_root_and_all_are_saved(tmp_path) -> None:
    child = Child()
    names = [n for n, _ in child.named_parameters()]
    assert names == ["method1.code", "method2.code", "_param", "_base.method1.code", "_base.method2.code",
                     "_base._param", "extra"]
    assert len(set(names)) == len(names) == 7
    for _, p in child.named_parameters():
        if p.kind == "code":
            _bump_code(p)
        else:
            p.value = p.value + "!"
    path = child.save(tmp_path / "child.json")
    fresh = Child()
    fresh.load(path)
    assert fresh.state_dict() == child.state_dict() and len(fresh.state_dict()) == 7


def test_overridden_base_method_is_listed_under_its_class() -> None:
    names = [n for n, _ in Override().named_parameters()]
    assert names == ["method1.code", "Base.method1.code", "method2.code", "_param"]


def test_each_instance_owns_its_trainable_code() -> None:
    a, b = Base(), Base()
    assert a.method1.code is not b.method1.code
    a.method1.code.value = "def method1(self, x):\n    return x * 2\n"
    assert a.method1(3).value == 6
    assert b.method1(3).value == 3  # untouched
    assert a.method1(3).parents[-1] is a.method1.code


def test_a_deepcopy_owns_its_code_and_parameters() -> None:
    a = Base()
    a.method1(1)
    b = copy.deepcopy(a)
    assert b.method1.code is not a.method1.code and b._param is not a._param
    b.method1.code.value = "def method1(self, x):\n    return x + 100\n"
    b._param.value = "changed"
    assert a.method1(1).value == 1 and a._param.value == "base text"
    assert b.method1(1).value == 101


def test_shared_is_an_explicit_option() -> None:
    class Shared(Module):
        @op(trainable=True, shared=True)
        def rule(self, x):
            return x

    a, b = Shared(), Shared()
    assert a.rule.code is b.rule.code is Shared.rule.code
    assert [n for n, _ in a.named_parameters()] == ["rule.code"]


# -- random module trees: unique names, save/load round-trips every parameter -----------
classes = [Base, Child, Override, Module]

specs = st.recursive(
    st.tuples(st.just("param"), st.text(min_size=0, max_size=5)),
    lambda kids: st.one_of(
        st.tuples(st.just("module"), st.sampled_from(range(len(classes))),
                  st.dictionaries(st.from_regex(r"[a-z]{1,3}", fullmatch=True), kids, max_size=3)),
        st.tuples(st.just("list"), st.lists(kids, max_size=3)),
        st.tuples(st.just("dict"), st.dictionaries(st.from_regex(r"[a-z]{1,3}", fullmatch=True), kids,
                                                   max_size=3)),
    ),
    max_leaves=10,
)


def _build(spec: Any, made: list[Parameter]) -> Any:
    kind = spec[0]
    if kind == "param":
        p = Parameter(spec[1], kind="text")
        made.append(p)
        return p
    if kind == "list":
        return [_build(s, made) for s in spec[1]]
    if kind == "dict":
        return {k: _build(s, made) for k, s in spec[1].items()}
    m = classes[spec[1]]()
    for _, p in m.named_parameters():  # class-made parameters and trainable code
        made.append(p)
    for attr, s in spec[2].items():
        setattr(m, "a_" + attr, _build(s, made))
    return m


@settings(max_examples=60, deadline=None)
@given(spec=st.tuples(st.just("module"), st.sampled_from(range(len(classes))),
                      st.dictionaries(st.from_regex(r"[a-z]{1,3}", fullmatch=True), specs, max_size=4)),
       data=st.data())
def test_random_trees_have_unique_names_and_round_trip(tmp_path_factory, spec: Any, data: Any) -> None:
    made: list[Parameter] = []
    root = _build(spec, made)
    named = list(root.named_parameters())
    names = [n for n, _ in named]
    assert len(set(names)) == len(names)
    assert {id(p) for _, p in named} == {id(p) for p in made}
    for _, p in named:
        if p.kind == "code":
            _bump_code(p)
        else:
            p.value = data.draw(st.text(max_size=6), label="value")
    path = root.save(tmp_path_factory.mktemp("tree") / "m.json")
    fresh = _build(spec, [])
    fresh.load(path)
    assert fresh.state_dict() == root.state_dict()
    assert len(fresh.state_dict()) == len(made)
