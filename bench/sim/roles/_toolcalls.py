"""Reading tool documentation, tool calls and observations, for the tool-use roles.

Tool docs and observation logs written by people share a few forms: calls written
`name[input]`, examples `name[input] -> result` (or `=>`, `returns`, `gives`), date
format tokens such as `YYYY-MM-DD`, parameters `name=value`, and JSON results. This
module reads those forms wherever they appear; it knows no tool and no task.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

CALL = re.compile(r"(?<![\w])([A-Za-z_][\w-]*)\[([^\[\]\n]*)\]")
_ARROW = r"\s*(?:->|=>|→|returns|gives|yields|outputs)\s*"
EXAMPLE = re.compile(r"(?<![\w])([A-Za-z_][\w-]*)\[([^\[\]\n]*)\]" + _ARROW +
                     r"(.+?)(?=\s*[;|]\s*[A-Za-z_][\w-]*\[|\s*$)", re.M)
FORMAT = re.compile(r"\b(YYYY|DD|MM)([-/.])(MM|DD)\2(YYYY|DD)\b")
ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SLASHED = re.compile(r"\b(\d{2})([/.])(\d{2})\2(\d{4})\b")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
PARAM = re.compile(r"\b([A-Za-z_]\w*)=(\S*)")
STOP = frozenset("a an the of to and or is are be it its in on for by with from as at this that "
                 "than then there their what which give gives find compute result previous "
                 "step how many much".split())


@dataclass(frozen=True)
class Example:
    """One `tool[args] -> result` statement, with the line it sits on."""

    tool: str
    args: str
    result: str
    line: str


def examples(text: str) -> list[Example]:
    """Every example statement in `text`, in order."""
    out = []
    for line in text.splitlines():
        for m in EXAMPLE.finditer(line):
            out.append(Example(m.group(1), m.group(2).strip(), _clean(m.group(3)), line))
    return out


def _clean(result: str) -> str:
    return result.strip().strip("`").rstrip(".").strip()


def date_format(text: str) -> str:
    """The date format a text states (`DD/MM/YYYY`, `YYYY-MM-DD`, ...), or ''."""
    m = FORMAT.search(text)
    return m.group(0) if m else ""


def to_iso(text: str, fmt: str = "") -> str:
    """`text` with slashed dates rewritten as ISO dates (day first unless `fmt` says MM first)."""
    month_first = fmt.startswith("MM")

    def iso(m: re.Match[str]) -> str:
        a, b, year = m.group(1), m.group(3), m.group(4)
        day, month = (b, a) if month_first else (a, b)
        return f"{year}-{month}-{day}"

    return SLASHED.sub(iso, text)


def from_iso(text: str, fmt: str) -> str:
    """`text` with ISO dates written in `fmt` (a format token); unchanged for ISO or ''."""
    if not fmt or fmt.startswith("YYYY"):
        return text
    sep = fmt[2]

    def render(m: re.Match[str]) -> str:
        parts = {"YYYY": m.group(1), "MM": m.group(2), "DD": m.group(3)}
        return sep.join(parts[p] for p in fmt.split(sep))

    return ISO.sub(render, text)


def same_result(a: str, b: str, fmt: str = "") -> bool:
    """Do two results say the same (numbers, dates, words, JSON) up to formatting?"""
    ja, jb = _json(a), _json(b)
    if ja is not None and jb is not None:
        return ja == jb
    na, nb = _norm(to_iso(a, fmt)), _norm(to_iso(b, fmt))
    if na == nb:
        return True
    nums_a, nums_b = NUMBER.findall(na), NUMBER.findall(nb)
    words_a, words_b = re.findall(r"[a-z_]+", na), re.findall(r"[a-z_]+", nb)
    if nums_a and len(nums_a) == len(nums_b) and words_a == words_b:
        return all(abs(float(x) - float(y)) <= 1e-6 * max(1.0, abs(float(y))) for x, y in zip(nums_a, nums_b))
    return False


def _json(text: str) -> object | None:
    text = text.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip("`'\"").lower())


def is_error(result: str) -> bool:
    """Is an observation an error report (`Error E_X: ...`, `E_X: ...`, `error: ...`)?"""
    return bool(re.match(r"\s*(error\b|exception\b|E_[A-Z]+\b)", result, re.I))


def stem(word: str) -> str:
    """A light stem: lower case, one common suffix removed."""
    w = word.lower()
    for suffix in ("ing", "ies", "ed", "es", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def content_words(text: str) -> set[str]:
    """Stems of the words of `text` that carry meaning (no stop words, no numbers)."""
    return {stem(w) for w in re.findall(r"[A-Za-z][A-Za-z_]+", text) if w.lower() not in STOP}


def canonical(tool: str, args: str, fmt: str = "") -> str:
    """A call's identity up to spacing and date format."""
    body = re.sub(r"\s+", " ", to_iso(args.strip(), fmt))
    return f"{tool}[{body}]"


def split_instructions(text: str) -> str:
    """`text` without its example lines, JSON lines and call tokens: where instructions live."""
    keep = []
    for line in text.splitlines():
        if EXAMPLE.search(line) or line.strip().startswith(("{", "[")):
            continue
        keep.append(CALL.sub(" ", line))
    return "\n".join(keep)
