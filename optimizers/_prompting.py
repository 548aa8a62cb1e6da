"""Small pieces shared by the TextGrad-style and OPRO optimizers: rendering a
parameter for a request, reading a value back out of a reply, and turning reply text
into a value of the parameter's kind.

Requests follow undertow's request convention, written by `undertow.engine.convention`
(a `<variable name=... kind=...>` block, `<example>` blocks with labelled fields), which
real models read as plain, well-labelled text; `coerce` is the convention's too. Nothing here writes to a parameter: the optimizers apply
values through `Optimizer.propose`, so constraints always hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from undertow.engine import Parameter, convention
from undertow.engine.convention import CoerceError, clip, coerce, show, variable_tag
from undertow.engine.llm import StructuredOutputError, extract_json

__all__ = ["ReplyError", "clip", "coerce", "describe_constraints", "example_block", "json_value",
           "show", "tagged", "variable_block"]


#: A reply from which no usable value can be read (the parameter is left alone). The
#: same error as the convention's `coerce` raises, so one `except` catches both.
ReplyError = CoerceError


def describe_constraints(param: Parameter) -> str:
    """The parameter's description and constraints as one readable line ('' if none)."""
    parts = []
    if param.description:
        parts.append(param.description.strip())
    c = param.constraints()
    if "bounds" in c:
        parts.append(f"must lie within [{c['bounds'][0]}, {c['bounds'][1]}]")
    if "choices" in c:
        parts.append("must be one of " + ", ".join(show(x) for x in c["choices"]))
    if "max_length" in c:
        parts.append(f"at most {c['max_length']} characters")
    if "signature" in c:
        parts.append("must keep the function's name and parameters")
    if "schema" in c:
        parts.append("must match the JSON schema " + json.dumps(c["schema"], sort_keys=True))
    return "; ".join(parts)


def variable_block(name: str, param: Parameter, max_chars: int) -> str:
    """The `<variable>` block of the request convention, with its constraints after it."""
    block = variable_tag(name, param.kind, param.value, max_chars=max_chars)
    notes = describe_constraints(param)
    return f"{block}\nAbout {name}: {notes}." if notes else block


def example_block(fields: Mapping[str, Any], max_chars: int) -> str:
    """An `<example>` block with the given labelled fields (input, output, expected, feedback)."""
    return convention.example_block(fields, max_chars)


def tagged(text: str, tag: str) -> str:
    """The text between the last `</tag>` and the last `<tag>` before it.

    Taking the last pair skips a reasoning that merely mentions the tags. Raises
    `ReplyError` when the reply has no complete pair.
    """
    if not isinstance(text, str):
        raise ReplyError(f"expected reply text, got {type(text).__name__}")
    low = text.lower()
    close = low.rfind(f"</{tag.lower()}>")
    if close < 0:
        raise ReplyError(f"the reply has no </{tag}> closing tag")
    opening = low.rfind(f"<{tag.lower()}>", 0, close)
    if opening < 0:
        raise ReplyError(f"the reply has no <{tag}> tag before </{tag}>")
    return text[opening + len(tag) + 2:close].strip()


def json_value(text: str, name: str) -> Any:
    """The new value of variable `name` in a JSON reply.

    Looks, in order, for a map of new values (`suggestion`, `new_values`, ...) holding
    `name` (or its only entry), a key named `name`, and a single-value key
    (`new_value`, `improved_variable`, ...). Raises `ReplyError` if none holds a value.
    """
    try:
        obj = extract_json(text)
    except StructuredOutputError as exc:
        raise ReplyError(f"the reply holds no JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ReplyError(f"the reply's JSON is a {type(obj).__name__}, not an object with a suggestion")
    for key in ("suggestion", "suggestions", "new_values", "update", "updates", "proposal"):
        inner = obj.get(key)
        if isinstance(inner, dict):
            if name in inner:
                return inner[name]
            if len(inner) == 1:
                return next(iter(inner.values()))
            if not inner:
                raise ReplyError("the reply suggests no change (an empty suggestion)")
        elif key in ("suggestion", "proposal") and isinstance(inner, (str, int, float)) and not isinstance(inner, bool):
            return inner
    if name in obj:
        return obj[name]
    for key in ("new_value", "improved_variable", "value", "new_prompt", "solution"):
        if key in obj:
            return obj[key]
    raise ReplyError(f"the reply's JSON has no value for {name!r} (keys: {sorted(map(str, obj))[:8]})")
