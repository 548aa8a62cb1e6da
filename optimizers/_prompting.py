"""Small pieces shared by the TextGrad-style and OPRO optimizers: rendering a
parameter for a request, reading a value back out of a reply, and turning reply text
into a value of the parameter's kind.

Requests follow the request convention of docs/sim.md (a `<variable name=... kind=...>`
block, `<example>` blocks with labelled fields), which real models read as plain,
well-labelled text as well. Nothing here writes to a parameter: the optimizers apply
values through `Optimizer.propose`, so constraints always hold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from undertow.engine import Parameter
from undertow.engine.llm import StructuredOutputError, extract_json


class ReplyError(ValueError):
    """A reply from which no usable value can be read (the parameter is left alone)."""


def clip(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters, saying how much was left out."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]} [... {len(text) - max_chars} more characters not shown]"


def show(value: Any) -> str:
    """A parameter value as the text a model reads (JSON for structured values)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


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
    block = f'<variable name="{name}" kind="{param.kind}">{clip(show(param.value), max_chars)}</variable>'
    notes = describe_constraints(param)
    return f"{block}\nAbout {name}: {notes}." if notes else block


def example_block(fields: Mapping[str, Any], max_chars: int) -> str:
    """An `<example>` block with the given labelled fields (input, output, expected, feedback)."""
    inner = "\n".join(f"<{k}>{clip(show(v), max_chars)}</{k}>" for k, v in fields.items() if v is not None)
    return f"<example>\n{inner}\n</example>"


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


_FENCE = re.compile(r"^```[\w+-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def coerce(param: Parameter, raw: Any) -> Any:
    """Reply data as a value of `param`'s kind, or `ReplyError` saying why not.

    Text stays text; code loses a surrounding code fence; numbers are read from
    strings exactly (`"3.0"` is a valid int, `"3.7"` is not: no silent truncation);
    a choice matches one of its choices by value or by its text; JSON values given as
    strings are decoded. Constraints are checked later, by `Parameter.set`.
    """
    kind = param.kind
    if kind in ("text", "code"):
        if not isinstance(raw, str):
            raise ReplyError(f"expected text for a {kind} parameter, got {type(raw).__name__}")
        text = raw.strip()
        m = _FENCE.match(text) if kind == "code" else None
        text = m.group(1) if m else text
        if not text:
            raise ReplyError("the reply's value is empty")
        return text + "\n" if kind == "code" else text
    if kind in ("float", "int"):
        return _number(param, raw)
    if kind == "choice":
        return _choice(param, raw)
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            raise ReplyError("the reply's value is not valid JSON") from None
    return raw


def _number(param: Parameter, raw: Any) -> float | int:
    if isinstance(raw, str):
        s = raw.strip().rstrip(".").replace(",", "")
        if not _NUMBER.match(s):
            raise ReplyError(f"{clip(raw, 40)!r} is not a number")
        raw = float(s) if any(c in s for c in ".eE") else int(s)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ReplyError(f"expected a number, got {type(raw).__name__}")
    if not math.isfinite(raw):
        raise ReplyError(f"{raw!r} is not finite")
    if param.kind == "int" and isinstance(raw, float):
        if not raw.is_integer():
            raise ReplyError(f"{raw!r} is not a whole number (an int parameter is never truncated)")
        return int(raw)
    return raw


def _choice(param: Parameter, raw: Any) -> Any:
    choices = param.choices or []
    for c in choices:
        if type(c) is type(raw) and c == raw:
            return c
    if isinstance(raw, str):
        key = raw.strip().strip("\"'").strip()
        for c in choices:
            if show(c) == key or str(c) == key:
                return c
    raise ReplyError(f"{clip(show(raw), 40)!r} is not one of the choices")
