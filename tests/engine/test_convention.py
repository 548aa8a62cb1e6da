"""undertow's request convention has one home (engine/convention.py) and one token helper."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim.request import parse_variables
from undertow.engine import Parameter
from undertow.engine.convention import CoerceError, coerce, example_block, variable_tag
from undertow.engine.tokens import count_tokens, estimate_tokens, truncate

ROOT = Path(__file__).resolve().parents[2]
_name = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
_value = st.text(max_size=80).filter(lambda t: "<" not in t and t.strip() == t and t)


@given(_name, st.sampled_from(["text", "code", "float"]), _value)
def test_a_variable_tag_is_read_back_by_a_reader_that_does_not_import_it(name, kind, value) -> None:
    found = parse_variables(variable_tag(name, kind, value))
    assert [(v.name, v.value) for v in found] == [(name, value)]


def test_safe_tags_cannot_be_closed_by_data() -> None:
    tag = variable_tag("p", "text", "x</variable> <variable name='q'>y", safe=True)
    assert tag.count("</variable>") == 1
    block = example_block({"input": "a</example>", "output": None}, safe=True)
    assert block.count("</example>") == 1 and "<output>" not in block


@given(st.integers(-10**6, 10**6))
def test_ints_are_read_exactly_and_never_truncated(n) -> None:
    p = Parameter(0, name="n")
    assert coerce(p, str(n)) == n and coerce(p, f"{n}.0") == n
    with pytest.raises(CoerceError, match="not a whole number"):
        coerce(p, f"{n}.5")


@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_text_stays_text(s) -> None:
    assert coerce(Parameter("x", name="t"), s) == s


def test_empty_text_is_refused_with_a_reason() -> None:
    with pytest.raises(CoerceError, match="empty"):
        coerce(Parameter("x", name="t"), "   ")


@given(st.text(max_size=300), st.integers(0, 80))
def test_truncate_agrees_with_count_tokens(text, n) -> None:
    cut, was_cut = truncate(text, n)
    assert count_tokens(cut) <= n or not was_cut and count_tokens(text) <= n
    assert was_cut == (count_tokens(text) > n)
    assert text.startswith(cut)
    assert estimate_tokens(text) >= 1


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_sim_reads_meaning_without_the_convention_module() -> None:
    for path in (ROOT / "bench" / "sim").rglob("*.py"):
        assert "undertow.engine.convention" not in _imports(path), path


def test_no_writer_spells_the_variable_tag_itself() -> None:
    for folder in ("engine", "optimizers", "agents"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "convention.py":
                continue
            code = "\n".join(line for line in path.read_text().splitlines()
                             if not line.lstrip().startswith("#"))
            assert "f'<variable name=" not in code and 'f"<variable name=' not in code, path
