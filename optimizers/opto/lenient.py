"""A forgiving reader for the JSON that language models actually write.

Models asked for JSON often send something close to it: raw newlines and tabs
inside strings (code!), trailing commas, single quotes, Python's `True`/`None`,
bare keys, triple-quoted strings, an object inside prose. `read_value(text, pos)`
reads one such value; `scan_objects(text)` finds the objects in a longer text.

Both are bounded: nesting deeper than `MAX_DEPTH` is refused (never a
RecursionError), and `scan_objects` is linear in the length of the text — after
a failed attempt it resumes where that attempt failed, never re-reading the same
prefix — so adversarial input (`{` * 100000) is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: The deepest nesting of objects and arrays read.
MAX_DEPTH = 64

_WS = re.compile(r"(?:\s+|//[^\n]*|#[^\n]*)*")
_NUMBER = re.compile(r"[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_$][\w$-]*")
_WORDS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\",
            '"': '"', "'": "'", "\n": "", "0": "\0", "a": "\a", "v": "\v"}
# a start worth trying: `{` then a quoted key, a bare key and its colon, `}` or a comment
_START = re.compile(r"\{(?=\s*(?:[\"'}]|[A-Za-z_$][\w$-]*\s*[:=]|//|#))")


class LenientError(ValueError):
    """The text is not even lenient JSON; `pos` is where reading stopped. `too_deep`:
    it stopped at the nesting limit."""

    def __init__(self, message: str, pos: int, too_deep: bool = False) -> None:
        super().__init__(f"{message} at character {pos}")
        self.pos, self.too_deep = pos, too_deep


def read_value(text: str, pos: int = 0) -> tuple[Any, int]:
    """Read one lenient-JSON value at `pos`; return it and the position after it."""
    return _Reader(text).value(pos, 0)


def scan_objects(text: str) -> Iterator[tuple[dict[str, Any], int, int]]:
    """Every top-level object found in `text`, left to right, as (object, start, end).

    Linear time: each attempt starts at or after the place the previous one stopped.
    Nesting past `MAX_DEPTH` ends the scan: such text is broken or hostile, and what
    follows is as deep.
    """
    reader = _Reader(text)
    pos = 0
    while True:
        m = _START.search(text, pos)
        if m is None:
            return
        try:
            obj, end = reader.value(m.start(), 0)
        except LenientError as exc:
            if exc.too_deep:
                return
            pos = max(exc.pos, m.start() + 1)
            continue
        yield obj, m.start(), end
        pos = end


class _Reader:
    __slots__ = ("text", "n")

    def __init__(self, text: str) -> None:
        self.text, self.n = text, len(text)

    def ws(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        pos = self.ws(pos)
        if pos >= self.n:
            raise LenientError("expected a value, found the end", pos)
        c = self.text[pos]
        if c == "{":
            return self.obj(pos, depth + 1)
        if c == "[" or c == "(":
            return self.arr(pos, depth + 1)
        if c == '"' or c == "'":
            return self.string(pos)
        m = _NUMBER.match(self.text, pos)
        if m is not None:
            return _number(m.group()), m.end()
        m = _WORD.match(self.text, pos)
        if m is not None and m.group() in _WORDS:
            return _WORDS[m.group()], m.end()
        raise LenientError(f"unexpected {c!r}", pos)

    def obj(self, pos: int, depth: int) -> tuple[dict[str, Any], int]:
        if depth > MAX_DEPTH:
            raise LenientError(f"nesting deeper than {MAX_DEPTH}", pos, too_deep=True)
        out: dict[str, Any] = {}
        pos = self.ws(pos + 1)
        while True:
            if pos >= self.n:
                raise LenientError("unclosed object", pos)
            c = self.text[pos]
            if c == "}":
                return out, pos + 1
            if c == '"' or c == "'":
                key, pos = self.string(pos)
            else:
                m = _WORD.match(self.text, pos) or _NUMBER.match(self.text, pos)
                if m is None:
                    raise LenientError(f"expected a key, found {c!r}", pos)
                key, pos = m.group(), m.end()
            pos = self.ws(pos)
            if pos >= self.n or self.text[pos] not in ":=":
                raise LenientError("expected ':' after a key", pos)
            out[str(key)], pos = self.value(pos + 1, depth)
            pos = self.ws(pos)
            if pos < self.n and self.text[pos] == ",":
                pos = self.ws(pos + 1)  # a trailing comma is fine
            elif pos < self.n and self.text[pos] != "}":
                raise LenientError("expected ',' or '}'", pos)

    def arr(self, pos: int, depth: int) -> tuple[list[Any], int]:
        if depth > MAX_DEPTH:
            raise LenientError(f"nesting deeper than {MAX_DEPTH}", pos, too_deep=True)
        close = "]" if self.text[pos] == "[" else ")"
        out: list[Any] = []
        pos = self.ws(pos + 1)
        while True:
            if pos >= self.n:
                raise LenientError("unclosed list", pos)
            if self.text[pos] == close:
                return out, pos + 1
            item, pos = self.value(pos, depth)
            out.append(item)
            pos = self.ws(pos)
            if pos < self.n and self.text[pos] == ",":
                pos = self.ws(pos + 1)
            elif pos < self.n and self.text[pos] != close:
                raise LenientError(f"expected ',' or {close!r}", pos)

    def string(self, pos: int) -> tuple[str, int]:
        """A string in double, single or triple quotes; raw newlines and tabs are kept."""
        text = self.text
        quote = text[pos]
        if text.startswith(quote * 3, pos):
            end = text.find(quote * 3, pos + 3)
            if end < 0:
                raise LenientError("unclosed string", self.n)
            return _unescape(text[pos + 3:end], pos), end + 3
        plain = _plain_run(quote)
        parts: list[str] = []
        i = pos + 1
        while True:
            m = plain.match(text, i)
            parts.append(m.group())  # type: ignore[union-attr]
            i = m.end()  # type: ignore[union-attr]
            if i >= self.n:
                raise LenientError("unclosed string", self.n)
            c = text[i]
            if c == quote:
                return "".join(parts), i + 1
            # a backslash escape
            if i + 1 >= self.n:
                raise LenientError("unclosed string", self.n)
            e = text[i + 1]
            if e in _ESCAPES:
                parts.append(_ESCAPES[e])
                i += 2
            elif e in "uxU":
                width = {"x": 2, "u": 4, "U": 8}[e]
                digits = text[i + 2:i + 2 + width]
                if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                    code = int(digits, 16)
                    i += 2 + width
                    if e == "u" and 0xD800 <= code < 0xDC00 and text.startswith("\\u", i):
                        low = text[i + 2:i + 6]
                        if len(low) == 4 and all(d in "0123456789abcdefABCDEF" for d in low) \
                                and 0xDC00 <= int(low, 16) < 0xE000:
                            code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                            i += 6
                    parts.append(chr(code) if code <= 0x10FFFF else "\ufffd")
                else:
                    parts.append("\\" + e)
                    i += 2
            else:  # an unknown escape (a regex in code): keep it as written
                parts.append("\\" + e)
                i += 2


_RUNS = {q: re.compile(r"[^\\%s]*" % re.escape(q)) for q in "\"'"}


def _plain_run(quote: str) -> re.Pattern[str]:
    return _RUNS[quote]


_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|U[0-9a-fA-F]{8}|.)", re.DOTALL)


def _unescape(body: str, pos: int) -> str:
    """The escapes of a triple-quoted string's body (unknown ones kept as written)."""
    if "\\" not in body:
        return body

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) > 1:
            code = int(e[1:], 16)
            return chr(code) if code <= 0x10FFFF else "\ufffd"
        return _ESCAPES.get(e, "\\" + e)

    return _ESCAPE.sub(one, body)


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    if any(c in clean for c in ".eE"):
        return float(clean)
    return int(clean)
