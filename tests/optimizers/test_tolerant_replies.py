"""Finding 6 of issue 12: OptoPrime reads the near-JSON replies real models write.

Replies are generated from valid suggestions and written the sloppy ways models
write them (raw newlines and tabs inside strings, trailing commas, single quotes,
Python literals, a fenced block among prose, and mixes of these); the parser must
recover every value exactly. Adversarial input must fail cleanly, never with a
RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.optimizers.opto.parse import find_json_object, parse_reply

# -- values a suggestion holds -------------------------------------------------
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["def f(x):\n\treturn x + 1\n", "a 'quoted' \"word\"", "back\\slash \\d+", "{not: json}", "```"])
scalars = text | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.booleans() | st.none()
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=3)
                      | st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=8)
names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
suggestions = st.dictionaries(names, values, min_size=1, max_size=4)


# -- the sloppy ways of writing them -------------------------------------------
def _str(s: str, quote: str, raw_ws: bool) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch in "\n\t" and raw_ws:
            out.append(ch)  # a raw newline or tab inside the string
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def write(v: Any, *, quote: str = '"', raw_ws: bool = True, trailing: bool = False, py: bool = False) -> str:
    """`v` written as near-JSON with the chosen sloppiness."""
    kw = dict(quote=quote, raw_ws=raw_ws, trailing=trailing, py=py)
    if isinstance(v, str):
        return _str(v, quote, raw_ws)
    if v is None or isinstance(v, bool):
        return {True: "True", False: "False", None: "None"}[v] if py else json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    tail = "," if trailing else ""
    if isinstance(v, list):
        body = ", ".join(write(x, **kw) for x in v)
        return "[" + body + (tail if v else "") + "]"
    body = ",\n  ".join(f"{_str(k, quote, raw_ws)}: {write(x, **kw)}" for k, x in v.items())
    return "{" + body + (tail if v else "") + "}"


styles = st.fixed_dictionaries({
    "quote": st.sampled_from(['"', "'"]), "raw_ws": st.booleans(), "trailing": st.booleans(),
    "py": st.booleans()})


def _reply(suggestion: dict[str, Any], style: dict[str, Any], how: str) -> str:
    obj = {"reasoning": "The output was wrong.\nChange\tit.", "suggestion": suggestion}
    if how == "repr":
        body = repr(obj)
    else:
        body = write(obj, **style)
    if how == "fenced":
        return f"Sure! Here is my answer {{as asked}}:\n```json\n{body}\n```\nHope it helps."
    if how == "prose":
        return f"I looked at {{x}} closely.\n{body}\nThat is all."
    return body


@settings(max_examples=300, deadline=None)
@given(suggestion=suggestions, style=styles, how=st.sampled_from(["bare", "repr", "fenced", "prose"]))
def test_every_value_is_recovered_from_sloppy_replies(suggestion: dict[str, Any], style: dict[str, Any],
                                                      how: str) -> None:
    reply = _reply(suggestion, style, how)
    parsed = parse_reply(reply)
    assert parsed.error is None, reply
    assert parsed.suggestion == suggestion, reply
    assert parsed.reasoning == "The output was wrong.\nChange\tit."


def test_the_issue_examples() -> None:
    code = '{"reasoning": "fix", "suggestion": {"f.code": "def f(x):\n    return x + 1\n",}}'
    assert parse_reply(code).suggestion == {"f.code": "def f(x):\n    return x + 1\n"}
    py = "{'reasoning': 'r', 'suggestion': {'n': 3, 'flag': True, 'z': None}}"
    assert parse_reply(py).suggestion == {"n": 3, "flag": True, "z": None}


def test_strict_json_wins_over_lenient_readings() -> None:
    # a valid JSON object is read as JSON even where a lenient reading would differ
    assert find_json_object('{"a": "x # y", "b": 1}') == {"a": "x # y", "b": 1}


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet='{}[]()"\':,\\ \nabc1#/', max_size=400))
def test_garbage_never_raises(junk: str) -> None:
    parse_reply(junk)  # returns a reply with or without an error, never raises


def test_deep_nesting_fails_cleanly_without_recursion_error() -> None:
    from undertow.optimizers.opto.lenient import MAX_DEPTH, read_value, scan_objects

    for junk in ("{" * 100000, "[" * 100000, '{"a":' * 20000, '{"s": ' + "[" * 50000 + "]" * 50000 + "}",
                 "{'a': (" * 10000, "```json\n" + "[" * 100000 + "\n```"):
        parsed = parse_reply(junk)
        assert parsed.error is not None
    deep = '{"a": ' * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5)
    assert find_json_object(deep) is not None  # strict JSON reads it; the lenient reader is bounded
    assert list(scan_objects("{'x': " * (MAX_DEPTH + 5))) == []
    ok = '{"a": ' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    assert read_value(ok)[0] is not None
