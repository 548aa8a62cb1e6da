"""Reading a request about creative texts, whatever its layout.

`passages(text)` finds the texts a request carries, with their labels: XML-like tags
(`<story>...</story>`), JSON objects (string fields), markdown sections (`## Story`),
`Label:` blocks (`Text A: ...` up to the next label or blank-line-separated label) and
fenced blocks introduced by a line that names them. `instructions(text)` is the request
with those bodies removed: what is *asked*, not what is shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Words that name a passage to write about or judge (with an optional A/B/C/1/2 suffix).
PASSAGE_NAMES = ("text", "story", "passage", "piece", "draft", "candidate", "poem", "tale", "writing",
                 "original", "source", "parent", "narrative", "anchor", "reference", "option", "version",
                 "first", "second", "third")
_SUFFIX = r"(?:[ _-]*(?:[a-c1-3]|one|two|three))?"
_NAME = rf"(?:{'|'.join(PASSAGE_NAMES)}){_SUFFIX}|[a-c]|[1-3]"
_TAG = re.compile(rf"<\s*((?:{_NAME}))\s*>(.*?)<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(rf"^[ \t]*#+[ \t]*((?:{_NAME}))[ \t]*:?[ \t]*$", re.IGNORECASE | re.MULTILINE)
_LABEL = re.compile(rf"^[ \t]*[*_]*((?:{_NAME}))[*_]*[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
_ANY_HEADING = re.compile(r"^[ \t]*#+[ \t]*\S", re.MULTILINE)
_FENCE = re.compile(r"```[\w-]*[ \t]*\n(.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class Passage:
    label: str      # lower-cased, spaces for _ and -
    body: str
    start: int
    end: int


def _norm(label: str) -> str:
    return re.sub(r"[ _-]+", " ", label.strip().lower())


def _json_passages(text: str) -> list[Passage]:
    out: list[Passage] = []
    for m in re.finditer(r"\{.*\}", text, re.DOTALL):
        try:
            obj = json.loads(m.group(0))
        except ValueError:
            continue
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(v, str) and re.fullmatch(_NAME, _norm(k).replace(" ", "_"), re.IGNORECASE) \
                        or isinstance(v, str) and re.fullmatch(_NAME, _norm(k), re.IGNORECASE):
                    out.append(Passage(_norm(k), v.strip(), m.start(), m.end()))
    return out


def passages(text: str) -> list[Passage]:
    """The labelled texts in `text`, in order of appearance (see the module docstring)."""
    found = [Passage(_norm(m.group(1)), m.group(2).strip(), m.start(), m.end()) for m in _TAG.finditer(text)]
    if found:
        return found
    found = _json_passages(text)
    if found:
        return found
    heads = list(_HEADING.finditer(text))
    if heads:
        for m in heads:
            nxt = _ANY_HEADING.search(text, m.end())
            end = nxt.start() if nxt else len(text)
            body = text[m.end():end].strip()
            fence = _FENCE.fullmatch(body)
            if nxt is None and not fence:        # the last section: its first paragraph
                body = re.split(r"\n[ \t]*\n", body)[0]
                end = m.end() + text[m.end():].find(body) + len(body)
            found.append(Passage(_norm(m.group(1)), (fence.group(1) if fence else body).strip(), m.start(), end))
        return [p for p in found if p.body]
    labels = list(_LABEL.finditer(text))
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        body = text[m.end():end].strip()
        fence = _FENCE.match(body)
        if fence:
            body = fence.group(1)
            end = m.end() + (fence.end() if fence else 0)
        elif i + 1 == len(labels):
            # the last label's body ends at a blank line followed by an instruction-like line
            parts = re.split(r"\n[ \t]*\n", body)
            body = parts[0]
            end = m.end() + len(body)
        found.append(Passage(_norm(m.group(1)), body.strip().strip('"').strip(), m.start(), end))
    return [p for p in found if p.body]


def instructions(text: str) -> str:
    """`text` without the bodies of its passages."""
    out, last = [], 0
    for p in sorted(passages(text), key=lambda p: p.start):
        if p.start >= last:
            out.append(text[last:p.start])
            last = p.end
    out.append(text[last:])
    return "".join(out)


def suffix(label: str) -> str:
    """The a/b/c (1/2/3, first/second/...) that tells passages apart: "text b" -> "b"."""
    low = _norm(label)
    ordinals = {"first": "1", "second": "2", "third": "3", "one": "1", "two": "2", "three": "3"}
    last = low.split()[-1]
    if last in ordinals:
        return ordinals[last]
    if re.fullmatch(r"[a-c1-3]", last):
        return last
    m = re.search(r"([a-c1-3])$", low.replace(" ", ""))
    return m.group(1) if m and len(low.replace(" ", "")) > 1 and not low.isalpha() else ""


# -- what an instruction asks -------------------------------------------------------------
_STOP = {"plays", "play", "is", "are", "was", "appears", "appear", "that", "which", "who", "and", "with",
         "in", "on", "at", "to", "of", "the", "a", "an", "somewhere", "matters", "figures", "has",
         "must", "should", "word", "words", "under", "within", "while", "but", "takes", "part", "role", "as", "by", "its", "it", "story", "text"}
_OBJECT = re.compile(r"\b(?:mention(?:s|ing)?|include(?:s|ing)?|feature(?:s|ing)?|about|involving|"
                     r"in which|where|containing|object|subject|item|prop)\b[ \t]*[:=-]?[ \t]*"
                     r"(?:an?|the|one|some)?[ \t]*([A-Za-z]+(?:[ \t]+[A-Za-z]+)?)", re.IGNORECASE)
_CAP = re.compile(r"(?:at most|no more than|not? (?:exceed|go over|more than)|under|fewer than|less than|"
                  r"maximum(?: of)?|max\.?|up to|within|no longer than|limit(?:ed)?(?: of| to)?|cap(?:ped)?(?: at| of)?|≤|<=)"
                  r"\s*(\d{1,4})\s*words?|(\d{1,4})[- ]word (?:limit|cap|maximum|max|budget)|"
                  r"word (?:limit|cap|count limit|budget|maximum)\s*(?:of|is|:|=)?\s*(\d{1,4})", re.IGNORECASE)


def object_phrase(instr: str) -> tuple[str | None, bool]:
    """The object the text must be about or mention (1-2 words), and whether a rule says it
    must be *mentioned* (not only the subject)."""
    found: list[tuple[str, bool]] = []
    for m in _OBJECT.finditer(instr):
        ws = [w for w in m.group(1).split()]
        keep = []
        for w in ws:
            if w.lower() in _STOP:
                break
            keep.append(w.lower())
        if keep:
            rule = m.group(0).lower().startswith(("mention", "include", "contain", "feature"))
            found.append((" ".join(keep), rule))
    if not found:
        return None, False
    mention = any(r for _, r in found)
    # the longest phrase that ends in the head noun a rule names
    heads = {p.split()[-1] for p, r in found if r}
    best = max((p for p, _ in found if not heads or p.split()[-1] in heads), key=len, default=found[0][0])
    return best, mention


def word_cap(instr: str) -> int | None:
    m = _CAP.search(instr)
    if m is None:
        return None
    return int(next(g for g in m.groups() if g))


def wants_complete(instr: str) -> bool:
    return re.search(r"\b(?:complete|full|finished|whole|proper)\s+sentences?\b|\bend(?:s|ing)? (?:with|on) a "
                     r"(?:period|full stop)|\bmid-sentence\b|\bunfinished sentence", instr, re.IGNORECASE) is not None


def wants_no_repeat(instr: str) -> bool:
    return re.search(r"\b(?:repeat(?:s|ed|ing)?|duplicat\w*|same sentence|say the same thing twice|repetition)\b",
                     instr, re.IGNORECASE) is not None
