"""Each tool against its true doc; every planted flaw really differs from the shipped doc."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim.roles._toolcalls import examples, same_result
from undertow.bench.tasks.toolworld import ToolError, make_world
from undertow.bench.tasks.toolworld.calc import evaluate, tokenize
from undertow.bench.tasks.toolworld.calendar import (
    HOLIDAYS,
    add_business_days,
    calendar,
)
from undertow.bench.tasks.toolworld.convert import parse_query
from undertow.bench.tasks.toolworld.kv import (
    PAGE_SIZE,
    KVStore,
    decode_cursor,
    encode_cursor,
    make_data,
)
from undertow.engine import Node, record

WORLD = make_world(0)


@pytest.mark.parametrize("tool", sorted(WORLD.tools))
def test_true_doc_examples_hold(tool: str) -> None:
    found = examples(WORLD.tools[tool].true_doc)
    assert len(found) >= 3
    for e in found:
        assert e.tool == tool
        assert same_result(WORLD.call(tool, e.args), e.result), (e.args, WORLD.call(tool, e.args), e.result)


@pytest.mark.parametrize("flaw", WORLD.flaws, ids=lambda f: f.id)
def test_each_flaw_is_real(flaw) -> None:
    tool = WORLD.tools[flaw.tool]
    assert not flaw.found(tool.doc), "the shipped doc must not state the truth"
    assert flaw.found(tool.true_doc), "the true doc must state it"
    # the probe that exposes the flaw: the tool does not do what the shipped doc claims
    name, _, rest = flaw.probe_hint.partition("[")
    args = rest.rstrip("]")
    observed = WORLD.call(name, args)
    claims = [e for e in examples(tool.doc) if e.args == args]
    if claims:
        assert not same_result(observed, claims[0].result)
    else:                                   # a documented parameter the tool rejects
        assert observed.startswith("Error E_")


def test_two_or_three_flaws_per_tool() -> None:
    for tool in WORLD.tools:
        assert 2 <= sum(f.tool == tool for f in WORLD.flaws) <= 3


def test_calls_are_traced_nodes_and_errors_are_observations() -> None:
    with record() as rec:
        out = WORLD.call("calc", Node("2**5"))
        err = WORLD.call("kv", Node("get nothing/here"))
    assert isinstance(out, Node) and out.value == "32" and out.op.name == "tool:calc"
    assert err.value.startswith("Error E_NOKEY")
    assert out in rec.nodes
    assert WORLD.call("nope", "x").startswith("Error E_TOOL")


def test_with_docs_replaces_and_rejects_unknown() -> None:
    w2 = WORLD.with_docs({"calc": "new"})
    assert w2.docs()["calc"] == "new" and WORLD.docs()["calc"] != "new"
    with pytest.raises(KeyError, match="no tools named"):
        WORLD.with_docs({"wat": "x"})


# -- calc ------------------------------------------------------------------------------
ints = st.integers(-10_000, 10_000)
pos = st.integers(1, 500)


@given(ints, ints)
def test_calc_add_mul(a: int, b: int) -> None:
    assert evaluate(f"{a}+{b}".replace("+-", "-")) == a + b
    assert evaluate(f"({a})*({b})".replace("(-", "(0-")) == a * b


@given(st.integers(0, 10_000), pos)
def test_calc_unusual_rules(a: int, b: int) -> None:
    assert evaluate(f"{a}^{b}") == a ^ b
    assert evaluate(f"{a}/{b}") == math.ceil(a / b)
    assert evaluate(f"{a}//{b}") == a // b
    assert evaluate(f"{a} mod {b}") == a % b
    assert evaluate(f"{a}%{b}") * 100 == a * b


@given(st.text(alphabet="0123456789+-*/^%() .mod", max_size=20))
def test_calc_parser_never_crashes(text: str) -> None:
    try:
        evaluate(text)
    except ToolError as exc:
        assert exc.code in ("E_SYNTAX", "E_DIV")


def test_calc_errors() -> None:
    with pytest.raises(ToolError, match="E_DIV"):
        evaluate("1/0")
    with pytest.raises(ToolError, match="E_SYNTAX"):
        tokenize("2 $ 3")


# -- convert ---------------------------------------------------------------------------
@given(st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 3)),
       st.sampled_from(["m", "km", "ft", "mi", "furlong"]), st.sampled_from(["m", "km", "ft"]))
def test_convert_roundtrip(x: float, a: str, b: str) -> None:
    value, src, dst = parse_query(f"{x} {a} to {b}")
    assert (value, src, dst) == (x, a, b)
    there = float(WORLD.call("convert", f"{x} {a} to {b}").split()[0])
    back = float(WORLD.call("convert", f"{there} {b} to {a}").split()[0])
    assert back == pytest.approx(x, rel=1e-4, abs=1e-3)


def test_convert_errors() -> None:
    assert WORLD.call("convert", "3 kg to m").startswith("Error E_UNIT")
    assert WORLD.call("convert", "three ft").startswith("Error E_ARGS")


# -- calendar --------------------------------------------------------------------------
@given(st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)), st.integers(0, 30))
def test_addbiz_lands_on_business_days(start: dt.date, n: int) -> None:
    end, skipped = add_business_days(start, n)
    assert end >= start
    if n:
        assert end.weekday() < 5 and (end.month, end.day) not in HOLIDAYS
    assert all((d.month, d.day) in HOLIDAYS for d in skipped)
    out = calendar(f"addbiz {start.isoformat()} {n}")
    assert out.split()[0] == end.isoformat()


@given(st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)))
def test_weekstart_is_monday(day: dt.date) -> None:
    start = dt.date.fromisoformat(calendar(f"weekstart {day.isoformat()}"))
    assert start.weekday() == 0 and 0 <= (day - start).days < 7
    assert calendar(f"weekday {day.isoformat()}") == day.strftime("%A")


def test_calendar_rejects_other_formats() -> None:
    assert WORLD.call("calendar", "weekday 05/03/2024").startswith("Error E_DATE")
    assert WORLD.call("calendar", "weekday 2024-02-30").startswith("Error E_DATE")


# -- kv --------------------------------------------------------------------------------
VALID_CURSORS = {encode_cursor(i) for i in range(3000)}


@given(st.integers(0, 10_000))
def test_cursor_roundtrip(n: int) -> None:
    assert decode_cursor(encode_cursor(n)) == n


@given(st.text(max_size=12))
def test_bad_cursor_is_e_page(text: str) -> None:
    if text not in VALID_CURSORS:
        with pytest.raises(ToolError, match="E_PAGE"):
            decode_cursor(text)


@given(st.integers(0, 50), st.sampled_from(["fruit/", "user/", "city/", "part/", "demo/", ""]))
def test_pagination_lists_every_key_once(seed: int, prefix: str) -> None:
    store = KVStore(make_data(seed))
    seen, cursor = [], None
    while True:
        page = json.loads(store(f"list {prefix}" + (f" cursor={cursor}" if cursor else "")))
        assert len(page["keys"]) <= PAGE_SIZE == page["page_size"]
        seen += page["keys"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(k for k in store.data if k.startswith(prefix))


def test_kv_errors() -> None:
    assert WORLD.call("kv", "list demo/ page=2") == "Error E_ARGS: unknown parameter 'page'"
    assert WORLD.call("kv", "get demo/zz").startswith("Error E_NOKEY")
    assert WORLD.call("kv", "list demo/ cursor=zz").startswith("Error E_PAGE")
