"""Finding what a request says about one named variable, without a regex per name.

The sim reads, for every numeric variable, the bounds a request states in prose
(`x in [0, 5]`, `0 <= x <= 5`, `x is between 0 and 5`) and the lines under its tag
(`trailer`). Written as one pattern per name, that compiles a few patterns for every
variable: about 0.7 ms each in `re`'s Python compiler, seconds for a request with a
thousand variables. Here the name is found with `str.find` and fixed patterns are
matched around each occurrence, which gives exactly what the per-name `re.search`
would (tests/sim compare the two on generated text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"

_LEFT = re.compile(r"(?<![\w.:])")  # a name starts here: no name character just before
_AROUND = re.compile(rf"\s*(?::|in|within|∈)\s*\[\s*({NUMBER})\s*,\s*({NUMBER})\s*\]")
_BETWEEN = re.compile(rf"\b[^\n]{{0,40}}?between\s+({NUMBER})\s+and\s+({NUMBER})")
_BELOW_RIGHT = re.compile(rf"\s*<=?\s*({NUMBER})")
_BELOW_LEFT = re.compile(rf"({NUMBER})\s*<=?\s*\Z")  # searched up to the name's start
_NUMBER_CHARS = frozenset("0123456789.eE+-")


def _occurrences(name: str, text: str) -> Iterator[int]:
    i = text.find(name)
    while i >= 0:
        yield i
        i = text.find(name, i + 1)


def stated_bounds(name: str, text: str) -> tuple[float, float] | None:
    """The first bounds `text` states for `name`, in this order of forms: `name in [a, b]`
    (also `:`, `within`, `∈`), `a <= name <= b` (or `<`), `name ... between a and b`
    (within 40 characters on its line); None when it states none. Sorted (low, high)."""
    if not name:
        return None
    end = len(name)
    starts = [i for i in _occurrences(name, text) if _LEFT.match(text, i)]
    for i in starts:
        m = _AROUND.match(text, i + end)
        if m:
            return _pair(m)
    best: tuple[int, float, float] | None = None
    for i in _occurrences(name, text):  # `a < name < b`: the name needs no left boundary
        right = _BELOW_RIGHT.match(text, i + end)
        left = _below_left(text, i) if right else None
        if left and (best is None or left.start() < best[0]):
            best = (left.start(), float(left.group(1)), float(right.group(1)))
    if best is not None:
        return min(best[1:]), max(best[1:])
    if "between" in text:
        for i in starts:
            m = _BETWEEN.match(text, i + end)
            if m:
                return _pair(m)
    return None


def _below_left(text: str, at: int) -> re.Match[str] | None:
    """`NUMBER <` (or `<=`) ending right at `at`, from its leftmost possible start."""
    j = at
    while j > 0 and text[j - 1].isspace():
        j -= 1
    if j > 0 and text[j - 1] == "=":
        j -= 1
    if j == 0 or text[j - 1] != "<":
        return None
    j -= 1
    while j > 0 and text[j - 1].isspace():
        j -= 1
    lo = j
    while lo > 0 and text[lo - 1] in _NUMBER_CHARS:
        lo -= 1
    return _BELOW_LEFT.search(text, lo, at)


def _pair(m: re.Match[str]) -> tuple[float, float]:
    a, b = float(m.group(1)), float(m.group(2))
    return min(a, b), max(a, b)


# --- the lines under a variable's tag ---------------------------------------------------
_TRAILER = r"((?:[ \t]*\n(?![ \t]*(?:<variable|#|<example|\n))[^\n]*)*)"
_TAGGED = re.compile(r"(?=<variable\b([^>]*)>.*?</variable\s*>" + _TRAILER + ")", re.IGNORECASE | re.DOTALL)
_NAME_ATTR = re.compile(r"name=[\"']?([^\"'\s>]*)", re.IGNORECASE)
_NAME_STOP = frozenset("\"'>") | frozenset(" \t\n\r\f\v")


def trailer(name: str, text: str) -> str:
    """The lines a request shows right after `name`'s tag `<variable ... name=NAME ...>
    ... </variable>` (description, constraints), up to the next variable, section or blank
    line; "" when there is no such tag. Names match case-insensitively."""
    if not name or not name.isascii() or any(c in _NAME_STOP or c.isspace() for c in name):
        return _trailer_by_pattern(name, text)
    return _trailers(text).get(name.lower(), "")


@functools.lru_cache(maxsize=8)
def _trailers(text: str) -> dict[str, str]:
    """Lower-cased name -> trailer of its first tag, for every tag of `text` (one pass;
    kept for the few texts being read, whose variables all ask)."""
    out: dict[str, str] = {}
    for m in _TAGGED.finditer(text):
        for attr in _NAME_ATTR.finditer(m.group(1)):
            out.setdefault(attr.group(1).lower(), m.group(2))
    return out


@functools.lru_cache(maxsize=256)
def _trailer_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"<variable\b[^>]*name=[\"']?{re.escape(name)}(?=[\"'\s>])[^>]*>.*?</variable\s*>"
                      + _TRAILER, re.IGNORECASE | re.DOTALL)


def _trailer_by_pattern(name: str, text: str) -> str:
    """The same, for names with quotes, spaces or non-ASCII letters (rare): one pattern."""
    m = _trailer_pattern(name).search(text)
    return m.group(1) if m else ""
