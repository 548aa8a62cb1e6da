"""The plan memory (experience store) and the tool protocol's parsers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.agents.plan_memory import PlanMemory, shape
from undertow.agents.tool_protocol import parse_action, parse_remaining, step_messages, toolbox
from undertow.optimizers.search.toolchain import Step

Q_POW = "Step 1: compute 4 to the power 3.\nStep 2: convert the previous result from ft to m."
Q_POW2 = "Step 1: compute 6 to the power 2.\nStep 2: convert the previous result from ft to m."
Q_DAY = "Step 1: add 3 business days to 2024-03-04.\nStep 2: find the weekday of the previous result."


def test_shape_abstracts_values() -> None:
    assert shape("calc", "4**3") == shape("calc", "12**2") == "calc[N**N]"
    assert shape("calc", "4^3") != shape("calc", "4**3")
    assert shape("calendar", "weekday 2024-03-07") == "calendar[weekday D]"
    assert shape("kv", "list user/ cursor=c1b") == "kv[list P cursor=V]"


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_shape_ignores_numbers(a: int, b: int) -> None:
    assert shape("calc", f"{a} mod {b}") == "calc[N mod N]"


def test_bonus_for_a_remembered_prefix(tmp_path) -> None:
    mem = PlanMemory(tmp_path / "plans.sqlite", scope="w")
    mem.remember(Q_POW, [("calc", "4**3"), ("convert", "64 ft to m")])
    right = (Step("calc", "6**2", "36"),)
    wrong = (Step("calc", "6^2", "4"),)
    assert mem.bonus(Q_POW2, right) > 0.5
    assert mem.bonus(Q_POW2, wrong) == 0.0
    assert mem.bonus(Q_POW2, right + (Step("convert", "36 ft to m", "10.9728 m"),)) > 0.5
    failed = (Step("calc", "6**2", "Error E_SYNTAX: x", error=True),)
    assert mem.bonus(Q_POW2, failed) == 0.0
    # an unrelated question gets less (or nothing)
    assert mem.bonus(Q_DAY, right) < mem.bonus(Q_POW2, right)
    # the same plan twice is one record; the memory survives reopening the store
    mem.remember(Q_POW, [("calc", "4**3"), ("convert", "64 ft to m")])
    assert len(mem) == 1
    again = PlanMemory(tmp_path / "plans.sqlite", scope="w")
    assert again.bonus(Q_POW2, right) == pytest.approx(mem.bonus(Q_POW2, right))
    other = PlanMemory(tmp_path / "plans.sqlite", scope="other")
    assert other.bonus(Q_POW2, right) == 0.0


def test_remember_needs_a_successful_call(tmp_path) -> None:
    mem = PlanMemory(tmp_path / "plans.sqlite")
    with pytest.raises(ValueError, match="successful tool call"):
        mem.remember(Q_POW, [Step("calc", "1/0", "Error E_DIV: division by zero", error=True)])


_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
_ARGS = st.text(alphabet=st.characters(blacklist_characters="[]\n\r", blacklist_categories=("Cs",)),
                max_size=30).map(str.strip)


@given(_NAMES, _ARGS, st.sampled_from(["Thought: go.\n", "", "I will call it.\n"]))
def test_parse_action_reads_react_lines(tool: str, args: str, before: str) -> None:
    a = parse_action(f"{before}Action: {tool}[{args}]")
    assert (a.tool, a.args, a.final) == (tool, args.strip(), False)


@given(_NAMES, _ARGS)
def test_parse_action_reads_json(tool: str, args: str) -> None:
    a = parse_action(json.dumps({"tool": tool, "input": args}))
    assert (a.tool, a.args) == (tool, args.strip())
    assert parse_action(json.dumps({"answer": args})).answer == args.strip()


def test_parse_action_final_and_fallback() -> None:
    assert parse_action("Thought: done\nFinal Answer: 42").answer == "42"
    assert parse_action("Final Answer: 7\nAction: calc[1+1]").answer == "7"
    assert parse_action("the answer is blue").answer == "the answer is blue"


@given(st.integers(0, 50))
def test_parse_remaining(n: int) -> None:
    assert parse_remaining(f"1. a\n2. b\nRemaining steps: {n}") == n
    assert parse_remaining("\n".join(f"{i}. call" for i in range(1, n + 1))) == n


def test_toolbox_from_callables_and_errors() -> None:
    def add(x: str) -> str:
        """add: sum numbers separated by +"""
        return str(sum(int(p) for p in x.split("+")))

    box = toolbox({"add": add})
    assert box.run("add", "1+2") == ("3", False)
    obs, err = box.run("add", "x")
    assert err and obs.startswith("Error")
    obs, err = box.run("nope", "1")
    assert err and "no tool named 'nope'" in obs
    msgs = step_messages("what is 1+2", box.docs, [Step("add", "1+2", "3")])
    assert "add: sum numbers" in msgs[0]["content"] and "Observation: 3" in msgs[1]["content"]
