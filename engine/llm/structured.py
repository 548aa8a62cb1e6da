"""Structured output: JSON, or a pydantic model, pulled tolerantly out of a reply.

Models wrap JSON in code fences, add prose around it, or write Python-style dicts
(single quotes, True/None, trailing commas). `extract_json` tries, in order: the
whole reply, each fenced block, then each balanced {...} / [...] span, reading each
strictly and then leniently. `parse_structured` also validates against a schema
and keeps the first candidate that passes. Whatever the text, the only exception
either raises is `StructuredOutputError`: replies come from a model, never trusted.

The client (`LLM.complete(..., schema=...)`) adds one repair round: it shows the
model its reply and the error and asks again; a second failure raises.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from undertow.engine.llm.errors import LLMError
from undertow.engine.llm.types import Message

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_JS_LITERALS = re.compile(r"\b(true|false|null)\b")
_MAX_STARTS = 64          # bracket positions tried strictly per text
_MAX_LENIENT = 16         # ... and leniently (each lenient try scans to the end)
_MAX_CANDIDATE = 1 << 20  # characters; longer spans are not parsed leniently


class StructuredOutputError(LLMError):
    """No valid JSON (or no value matching the schema) could be read from a reply."""

    def __init__(self, reason: str, text: str = "") -> None:
        self.reason = reason
        self.text = text
        shown = text if len(text) <= 300 else text[:300] + "..."
        super().__init__(f"could not read structured output: {reason}. Reply was: {shown!r}")


def _plain_json(value: Any) -> Any:
    """`value` as JSON data (tuples become lists); raise ValueError if it is not JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("NaN")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("non-string key")
        return {k: _plain_json(v) for k, v in value.items()}
    raise ValueError(f"{type(value).__name__} is not JSON")


def _lenient(span: str) -> Any:
    """Parse `span` as JSON, then as JSON without trailing commas, then as a Python literal."""
    try:
        return json.loads(span)
    except ValueError:
        pass
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", span))
    except ValueError:
        pass
    if len(span) > _MAX_CANDIDATE:
        raise ValueError("too long to parse leniently")
    pythonic = _JS_LITERALS.sub(lambda m: {"true": "True", "false": "False", "null": "None"}[m[1]], span)
    return _plain_json(ast.literal_eval(pythonic.strip()))


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the bracket closing the one at `start`, skipping quoted strings."""
    depth, quote, i, n = 0, "", start, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _candidates(text: str) -> Iterator[Any]:
    """Every JSON value found in `text`, best guesses first."""
    stripped = text.strip()
    spans = [stripped] + [m[2].strip() for m in _FENCE.finditer(text)]
    for span in spans:
        if span:
            try:
                yield _lenient(span)
            except Exception:  # noqa: BLE001, S110 - any failure just means "not this span"
                pass
    decoder = json.JSONDecoder()
    starts = [i for i, c in enumerate(text) if c in "{["][:_MAX_STARTS]
    for tried, start in enumerate(starts):
        try:
            yield decoder.raw_decode(text, start)[0]
            continue
        except Exception:  # noqa: BLE001, S110 - not JSON from here: try leniently
            pass
        end = _balanced_end(text, start) if tried < _MAX_LENIENT else None
        if end is not None:
            try:
                yield _lenient(text[start:end])
            except Exception:  # noqa: BLE001, S110 - not this span
                pass


def extract_json(text: str) -> Any:
    """The first JSON value found in `text`; raise `StructuredOutputError` if none."""
    if not isinstance(text, str):
        raise StructuredOutputError(f"expected reply text, got {type(text).__name__}")
    try:
        for value in _candidates(text):
            return value
    except Exception as exc:  # noqa: BLE001 - e.g. RecursionError on absurd nesting
        raise StructuredOutputError(f"unreadable ({type(exc).__name__})", text) from None
    raise StructuredOutputError("no JSON object, array or value found", text)


def _adapter(schema: Any) -> TypeAdapter[Any] | None:
    if schema is None or isinstance(schema, dict):
        return None
    try:
        return TypeAdapter(schema)
    except Exception as exc:  # noqa: BLE001
        raise StructuredOutputError(f"schema {schema!r} is not a type pydantic can validate "
                                    f"({exc}); pass a pydantic model or a type") from None


def parse_structured(text: str, schema: Any = None) -> Any:
    """Read a value matching `schema` from a reply.

    `schema` is None or a JSON-schema dict (any JSON value is returned as is), or a
    pydantic model / type (the first candidate that validates is returned as that
    type). Raises `StructuredOutputError` naming the last validation problem.
    """
    adapter = _adapter(schema)
    if adapter is None:
        return extract_json(text)
    if not isinstance(text, str):
        raise StructuredOutputError(f"expected reply text, got {type(text).__name__}")
    last = "no JSON object, array or value found"
    try:
        for value in _candidates(text):
            try:
                return adapter.validate_python(value)
            except ValidationError as exc:
                last = f"JSON found but it does not match {_schema_name(schema)}: " + \
                    "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}"
                              for e in exc.errors()[:5])
    except Exception as exc:  # noqa: BLE001
        raise StructuredOutputError(f"unreadable ({type(exc).__name__})", text) from None
    raise StructuredOutputError(last, text)


def _schema_name(schema: Any) -> str:
    return getattr(schema, "__name__", None) or str(schema)


def json_schema_of(schema: Any) -> dict[str, Any] | None:
    """The JSON schema for `schema` (a dict is returned as is; None gives None)."""
    if schema is None or isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return TypeAdapter(schema).json_schema()


def response_format_for(schema: Any) -> dict[str, Any]:
    """The OpenAI-style `response_format` asking for JSON that matches `schema`."""
    body = json_schema_of(schema)
    if body is None:
        return {"type": "json_object"}
    name = re.sub(r"[^A-Za-z0-9_-]", "_", _schema_name(schema) if not isinstance(schema, dict)
                  else str(body.get("title", "output")))[:64] or "output"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": body, "strict": False}}


def repair_messages(messages: tuple[Message, ...], reply: str, error: StructuredOutputError,
                    schema: Any) -> tuple[Message, ...]:
    """The conversation for the repair round: the bad reply, what is wrong, the schema."""
    body = json_schema_of(schema)
    wanted = f" matching this JSON schema:\n{json.dumps(body)}" if body else ""
    ask = (f"Your reply could not be read: {error.reason}. "
           f"Reply again with only valid JSON{wanted}\nNo prose, no code fences.")
    return (*messages, Message(role="assistant", content=reply), Message(role="user", content=ask))
