"""Solvers against independent oracles on items written by the tests themselves.

The generators' own items are checked in test_reasoning_tasks.py; here hypothesis
builds item texts with shapes the generators rarely produce (many words, deep
nesting, multi-digit numbers, leap days, month ends) and compares each solver with a
separate, simpler computation of the answer.
"""

from __future__ import annotations

import calendar
import datetime as dt
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.tasks.reasoning import (
    date_arithmetic,
    dyck_languages,
    multistep_arithmetic,
    navigation,
    object_counting,
    word_sorting,
)
from undertow.bench.tasks.reasoning._objects import CATEGORIES

# --- word sorting ----------------------------------------------------------------------

words = st.text(alphabet=string.ascii_lowercase + "&'-", min_size=1, max_size=12)


@given(st.lists(words, min_size=1, max_size=80), st.sampled_from([" ", "  ", "\n", " \t"]))
def test_word_sorting_any_list(ws: list[str], sep: str) -> None:
    text = word_sorting.PREFIX + sep.join(ws)
    assert word_sorting.solve(text) == " ".join(sorted(ws))


# --- object counting -------------------------------------------------------------------

NUMBER = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
          8: "eight", 9: "nine", 10: "ten"}


@st.composite
def counting_items(draw: st.DrawFn) -> tuple[str, int]:
    nouns = [(cat, pair) for cat, pairs in CATEGORIES.items() for pair in pairs]
    chosen = draw(st.lists(st.sampled_from(nouns), min_size=1, max_size=25,
                           unique_by=lambda x: x[1][0]))
    counts = draw(st.lists(st.integers(1, 10), min_size=len(chosen), max_size=len(chosen)))
    asked = draw(st.sampled_from(sorted(CATEGORIES)))
    phrases = []
    for (cat, (one, many)), n in zip(chosen, counts, strict=True):
        article = "an" if one[0] in "aeiou" else "a"
        phrases.append(f"{article} {one}" if n == 1 else f"{NUMBER[n]} {many}")
    listing = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + ", and " + phrases[-1]
    want = sum(n for (cat, _), n in zip(chosen, counts, strict=True) if cat == asked)
    return f"I have {listing}. How many {asked} do I have?", want


@given(counting_items())
def test_object_counting_any_list(item: tuple[str, int]) -> None:
    text, want = item
    assert object_counting.solve(text) == str(want)


def test_object_counting_two_entries_joined_by_and() -> None:
    assert object_counting.solve("I have a piano and three cows. How many animals do I have?") == "3"


# --- multistep arithmetic --------------------------------------------------------------

literal = st.integers(-999, 999).map(str)
expression = st.recursive(
    literal,
    lambda inner: st.tuples(st.lists(inner, min_size=2, max_size=4),
                            st.lists(st.sampled_from("+-*"), min_size=3, max_size=3)).map(
        lambda t: "(" + " ".join(
            x for pair in zip(t[0], [*t[1][:len(t[0]) - 1], ""]) for x in pair if x) + ")"),
    max_leaves=40,
)


@given(expression.filter(lambda e: e.startswith("(")))
def test_arithmetic_matches_python_on_any_expression(expr: str) -> None:
    assert multistep_arithmetic.solve(expr + " =") == str(eval(expr))


def test_arithmetic_deep_nesting() -> None:
    expr = "(" * 60 + "-3" + " * 2)" * 60
    assert multistep_arithmetic.solve(expr + " =") == str(-3 * 2**60)


@pytest.mark.parametrize("bad", ["((1 + ) =", "((1 + 2) =", "(1 + 2)) =", "(1 / 2) =", "(1 2) ="])
def test_arithmetic_malformed_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ValueError, match="multistep_arithmetic"):
        multistep_arithmetic.solve(bad)


# --- Dyck languages --------------------------------------------------------------------

PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
balanced = st.recursive(
    st.just(""),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(sorted(PAIRS)), inner).map(lambda t: t[0] + t[1] + PAIRS[t[0]]),
        st.tuples(inner, inner).map(lambda t: t[0] + t[1]),
    ),
    max_leaves=30,
)


@given(st.lists(st.tuples(st.sampled_from(sorted(PAIRS)), balanced), min_size=1, max_size=40),
       balanced)
def test_dyck_closes_whatever_is_open(opens: list[tuple[str, str]], head: str) -> None:
    seq = head + "".join(o + chunk for o, chunk in opens)
    text = dyck_languages.PREFIX + " ".join(seq)
    want = " ".join(PAIRS[o] for o, _ in reversed(opens))
    assert dyck_languages.solve(text) == want
    assert dyck_languages.score(want, want) == 1.0


def test_dyck_very_deep_nesting() -> None:
    seq = "[ { ( < " * 300
    closing = " ".join([">", ")", "}", "]"] * 300)
    assert dyck_languages.solve(dyck_languages.PREFIX + seq.strip()) == closing


@pytest.mark.parametrize("seq", ["( ]", "( ) )", "( x"])
def test_dyck_malformed_is_a_clear_error(seq: str) -> None:
    with pytest.raises(ValueError, match="dyck_languages"):
        dyck_languages.solve(dyck_languages.PREFIX + seq)


# --- navigation ------------------------------------------------------------------------

step = st.tuples(st.integers(0, 30), st.sampled_from(["", "forward", "backward", "left", "right"]))
turn = st.sampled_from(["left", "right", "around"])


@given(st.lists(st.one_of(step, turn), min_size=1, max_size=40))
def test_navigation_matches_a_complex_number_walk(moves: list) -> None:
    heading, pos, lines = 1 + 0j, 0j, []
    for move in moves:
        if isinstance(move, str):
            heading *= {"left": 1j, "right": -1j, "around": -1}[move]
            lines.append(f"Turn {move}.")
        else:
            n, d = move
            pos += n * heading * {"": 1, "forward": 1, "backward": -1, "left": 1j, "right": -1j}[d]
            lines.append(f"Take {n} step{'' if n == 1 else 's'}{' ' + d if d else ''}.")
    text = f"{navigation.QUESTION} {' '.join(lines)}{navigation.OPTIONS}"
    assert navigation.solve(text) == ("Yes" if pos == 0 else "No")


def test_navigation_unknown_instruction_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="navigation.*Take five steps"):
        navigation.solve(f"{navigation.QUESTION} Take five steps.{navigation.OPTIONS}")


# --- date arithmetic ---------------------------------------------------------------------

def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def write(d: dt.date, fmt: str) -> str:
    return {"MM/DD/YYYY": d.strftime("%m/%d/%Y"), "DD/MM/YYYY": d.strftime("%d/%m/%Y"),
            "YYYY-MM-DD": d.strftime("%Y-%m-%d"),
            "Month D, YYYY": f"{d:%B} {d.day}, {d.year}"}[fmt]


formats = st.sampled_from(["MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "Month D, YYYY"])
leapish = st.one_of(
    st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)),
    st.builds(lambda y, m: dt.date(y, m, calendar.monthrange(y, m)[1]),  # month ends
              st.integers(1800, 2200), st.integers(1, 12)),
    st.builds(lambda y, k: dt.date(y, 2, 27) + dt.timedelta(days=k),  # around Feb 29
              st.sampled_from([1896, 1900, 2000, 2024, 2100]), st.integers(0, 3)),
)


@given(leapish, st.sampled_from(["day", "week", "month", "year"]), st.integers(1, 500),
       st.booleans(), formats, formats)
def test_date_matches_an_independent_calendar(today: dt.date, unit: str, n: int, forward: bool,
                                              stated: str, asked: str) -> None:
    n = n if unit in ("day", "week") else n % 40 + 1
    signed = n if forward else -n
    want = (today + dt.timedelta(days=signed * (7 if unit == "week" else 1))
            if unit in ("day", "week") else add_months(today, signed * (12 if unit == "year" else 1)))
    said = f"{write(today, stated)}" + ("" if stated == "Month D, YYYY" else f" ({stated})")
    span = f"{n} {unit}{'' if n == 1 else 's'}"
    ask = f"What is the date {span} from today" if forward else f"What was the date {span} ago"
    text = f"Today is {said}. {ask} in {asked}?"
    assert date_arithmetic.solve(text) == write(want, asked)


@pytest.mark.parametrize(("text", "want"), [
    ("Today is January 31, 2024. What is the date 1 month from today in YYYY-MM-DD?", "2024-02-29"),
    ("Today is January 31, 2023. What is the date a month from today in YYYY-MM-DD?", "2023-02-28"),
    ("Today is 2000-02-29 (YYYY-MM-DD). What is the date one year from today in YYYY-MM-DD?",
     "2001-02-28"),
    ("Today is 02/28/1900 (MM/DD/YYYY). What is the date 1 day from today in MM/DD/YYYY?",
     "03/01/1900"),
    ("Today is 28/02/2000 (DD/MM/YYYY). What is the date 1 day after today in DD/MM/YYYY?",
     "29/02/2000"),
    (("Today is the last day of February 2100. What is the date 2 days from today in "
      "Month D, YYYY?"), "March 2, 2100"),
    ("Today is March 31, 2024. What was the date three months before today in MM/DD/YYYY?",
     "12/31/2023"),
    ("Today is March 31, 2024. What was the date 1 month ago in MM/DD/YYYY?", "02/29/2024"),
])
def test_date_known_cases(text: str, want: str) -> None:
    assert date_arithmetic.solve(text) == want


@pytest.mark.parametrize("bad", [
    "Today is 02/30/2021 (MM/DD/YYYY). What is the date 1 day from today in MM/DD/YYYY?",
    "Today is 12/30/2021 (MM/DD/YYYY). What is the date 1 day from today in MM-YYYY?",
    "Today is 12/30/2021 (MM/DD/YYYY). What is the date soon?",
    "Today is Smarch 3, 2021. What is the date 1 day from today in MM/DD/YYYY?",
])
def test_date_malformed_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ValueError, match="date_arithmetic"):
        date_arithmetic.solve(bad)


# --- tolerant scoring ------------------------------------------------------------------

@pytest.mark.parametrize(("module", "target", "good", "bad"), [
    (word_sorting, "barn damp delmarva", ["Barn, damp, delmarva", "- barn\n- damp\n- delmarva",
                                           "barn, damp and delmarva"], ["damp barn delmarva",
                                                                        "barn damp"]),
    (object_counting, "8", ["eight", "8.", "There are 8 instruments.", "8 musical instruments"],
     ["9", "a lot", ""]),
    (multistep_arithmetic, "-50", ["-50.0", "= -50", "\u221250", "Answer: -50"], ["50", "-5"]),
    (dyck_languages, "] ] >", ["]]>", "] ] >.", "The closing is ] ] >", "< [ [ ] ] >"],
     ["] >", "] ] > >", "> ] ]"]),
    (navigation, "Yes", ["yes", "(A) Yes", "- Yes", "Yes, you return."], ["No", "no, yes"]),
    (date_arithmetic, "03/02/2021", ["3/2/2021", "03-02-2021", "Answer: 03/02/2021"],
     ["2021-03-02", "03/03/2021", "March 2, 2021"]),
    (date_arithmetic, "March 2, 2021", ["Mar 2nd, 2021", "2 March 2021", "march 2 2021"],
     ["03/02/2021", "March 3, 2021", "Ma 2, 2021"]),
])
def test_score_variants(module, target: str, good: list[str], bad: list[str]) -> None:
    for reply in good:
        assert module.score(reply, target) == 1.0, reply
    for reply in bad:
        assert module.score(reply, target) == 0.0, reply


@given(st.text(max_size=60))
def test_score_never_crashes_on_arbitrary_replies(reply: str) -> None:
    for module, target in ((word_sorting, "a b"), (object_counting, "3"),
                           (multistep_arithmetic, "-7"), (dyck_languages, ") ]"),
                           (navigation, "No"), (date_arithmetic, "2021-03-02")):
        assert module.score(reply, target) in (0.0, 1.0)
