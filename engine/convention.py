"""undertow's own request convention, written in one place (docs/sim.md, "Request convention").

Every optimizer and propagator that shows a parameter or an example to a model uses
these writers, and every one that reads a value back uses `coerce`, so the convention
cannot drift between them. The convention is plain, well-labelled text that any model
reads; the simulated LLM does not import this module (it reads meaning, whatever the
syntax):

    <variable name="system_prompt" kind="text">current value</variable>
    <example>
    <input>...</input> <output>...</output> <expected>...</expected> <feedback>...</feedback>
    </example>
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from undertow.engine.errors import InvalidValueError
from undertow.engine.params import Parameter

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n(.*?)```", re.DOTALL)
_INT = re.compile(r"[+-]?\d+")
#: Our own closing tags: data holding one is defused so it cannot end a block early.
_OUR_CLOSERS = re.compile(r"</\s*(?:variable|example|input|output|expected|feedback)\s*>",
                          re.IGNORECASE)


class CoerceError(ValueError):
    """A value read from a reply that cannot become a value of the parameter; says why."""


def clip(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters, saying how much was left out."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]} [... {len(text) - max_chars} more characters not shown]"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_PLAIN = (int, float, bool, type(None))  # their repr never holds an address


def stable_repr(value: Any) -> str:
    """`repr(value)` without memory addresses (`<function f at 0x7f..>` -> `<function f>`):
    text a model reads, and the cache keys made from it, must not change from one
    process to the next, or runs would not repeat across workers and resumes."""
    if type(value) in _PLAIN:  # no address in these: skip the regex (hot in reports)
        return repr(value)
    return _ADDRESS.sub("", repr(value))


def show(value: Any) -> str:
    """A parameter value as the text a model reads (JSON for structured values)."""
    if isinstance(value, str):
        return value
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)  # what json.dumps writes for these, without its machinery
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return stable_repr(value)


def defuse(text: str) -> str:
    """`text` with our own closing tags broken (`</variable>` -> `< /variable>`), so data
    can never end a block early; nothing else is escaped (items may hold brackets)."""
    return _OUR_CLOSERS.sub(lambda m: m.group(0).replace("</", "< /"), text)


def variable_tag(name: str, kind: str, value: Any, *, max_chars: int | None = None,
                 safe: bool = False) -> str:
    """The `<variable>` block of the convention. `max_chars` clips the shown value;
    `safe` defuses our closing tags inside the name and value."""
    text = show(value)
    if max_chars is not None:
        text = clip(text, max_chars)
    if safe:
        name, text = defuse(name), defuse(text)
    return f'<variable name="{name}" kind="{kind}">{text}</variable>'


def example_block(fields: Mapping[str, Any], max_chars: int | None = None,
                  safe: bool = False) -> str:
    """An `<example>` block with the given labelled fields (input, output, expected,
    feedback, ...); fields that are None are left out."""
    def one(v: Any) -> str:
        text = show(v) if max_chars is None else clip(show(v), max_chars)
        return defuse(text) if safe else text

    inner = "\n".join(f"<{k}>{one(v)}</{k}>" for k, v in fields.items() if v is not None)
    return f"<example>\n{inner}\n</example>"


# -- reading a value back ----------------------------------------------------------------
def _strip_fence(text: str) -> str:
    m = _FENCE.search(text)
    return m.group(1) if m and not text[:m.start()].strip() and not text[m.end():].strip() else text


def _literal(text: str) -> tuple[bool, Any]:
    """(True, value) when `text` is a JSON or Python literal, else (False, None)."""
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _number(param: Parameter, raw: Any) -> float | int:
    if isinstance(raw, bool):
        raise CoerceError(f"{param.kind} parameter: got a boolean {raw!r}, expected a number")
    if isinstance(raw, str):
        s = raw.strip().rstrip(".").replace("_", "").replace(",", "")
        if param.kind == "int" and _INT.fullmatch(s):
            return int(s)
        try:
            raw = float(s)
        except ValueError:
            raise CoerceError(f"{param.kind} parameter: {raw[:60]!r} is not a number") from None
    if not isinstance(raw, (int, float)):
        raise CoerceError(f"{param.kind} parameter: got a {type(raw).__name__}, expected a number")
    if not math.isfinite(raw):
        raise CoerceError(f"{param.kind} parameter: {raw!r} is not finite")
    if param.kind == "int":
        if isinstance(raw, float) and not raw.is_integer():
            raise CoerceError(f"int parameter: {raw!r} is not a whole number; it is not "
                              "rounded, suggest an integer")
        return int(raw)
    return float(raw)


def _choice(param: Parameter, raw: Any) -> Any:
    choices = param.choices or []
    for c in choices:
        if c == raw and type(c) is type(raw):
            return c
    if isinstance(raw, str):
        s = raw.strip().strip("\"'").strip()
        for c in choices:
            if isinstance(c, str) and c.strip().lower() == s.lower():
                return c
            if not isinstance(c, str) and show(c) == s:
                return c
        ok, lit = _literal(s)
        if not ok and s.lower() in ("true", "false", "none", "null"):
            ok, lit = True, {"true": True, "false": False}.get(s.lower())
        if ok:
            for c in choices:
                if c == lit and type(c) is type(lit):
                    return c
    raise CoerceError(f"choice parameter: {str(raw)[:60]!r} is not one of {choices!r}")


def coerce(param: Parameter, raw: Any) -> Any:
    """`raw` (from a model's reply) as a value of `param`'s kind, validated by the
    parameter; `CoerceError` saying why not.

    Text stays text (a number is written out; a list is never split into characters);
    code loses a surrounding code fence; numbers are read from strings exactly ("3.0"
    is a valid int, "3.7" is not: never a silent truncation); a choice matches one of
    its choices by value or by its text; JSON data given as a string is decoded.
    """
    kind = param.kind
    if kind in ("text", "code"):
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and kind == "text":
            raw = str(raw)
        if not isinstance(raw, str):
            raise CoerceError(f"{kind} parameter: got a {type(raw).__name__}, expected a string")
        value: Any = _strip_fence(raw) if kind == "code" else raw
        if not value.strip():
            raise CoerceError(f"{kind} parameter: the value is empty")
    elif kind in ("int", "float"):
        # a finite float for a float parameter is already its value (the usual reply)
        value = raw if kind == "float" and type(raw) is float and math.isfinite(raw) else _number(param, raw)
    elif kind == "choice":
        value = _choice(param, raw)
    else:  # json
        value = raw
        if isinstance(raw, str) and not isinstance(param.value, str):
            ok, lit = _literal(raw.strip())
            if not ok:
                raise CoerceError(f"json parameter: the string {raw[:60]!r} is not JSON data; "
                                  "give the value itself (a list, a map, a number...)")
            value = lit
    try:
        return param.validate(value)
    except (InvalidValueError, ValueError, TypeError) as exc:  # a schema may raise its own
        raise CoerceError(str(exc)) from None
