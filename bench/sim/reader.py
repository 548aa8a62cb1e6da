"""A small structured reader: a conversation cut into labelled fields, grouped into records.

Frameworks write the same information in many syntaxes: XML-style tags, `Label:` lines,
`#Section` headings, `[[ ## field ## ]]` blocks, JSON objects, markdown tables, OPTO's
`(type) name=value` lines, numbered batches (`ID [3]: ...`). The reader does not know
any framework: it recognizes these *syntaxes*, reads each label's meaning from its words
(`FIELD_WORDS`: input / output / expected / feedback), and keeps where each field sits:

- `group`: the container it came from (an example tag, a JSON object, a table row),
  so that fields written side by side belong together;
- `index`: the number a field carries (`question3`, `ID [3]`, `Example 3`, the 4th
  element of a shown list), so that batched inputs, outputs and feedback line up.

Two rules keep instructions from being read as data: a *definition line* (a bullet or
`#` glossary entry whose value is a description, "- #Feedback: the feedback about
...") is skipped, and a field kind that a user or assistant message carries is never
taken from a system message.

`pair_items` then finds each task item (by the profiles) and pairs it with the output,
expected answer and feedback that belong to it (same group and index, then the
computation shown (`out = f(x=...)`), then the batch position, then the only one).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from undertow.bench.sim.profile import TaskProfile
from undertow.bench.sim.request import Block

#: Words of a label -> the field it names (checked in this order; first hit wins).
FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("expected", ("expected", "gold", "target", "reference", "ground truth", "correct answer",
                  "right answer", "label", "solution", "true answer")),
    ("feedback", ("feedback", "critique", "criticism", "evaluation", "error", "comment",
                  "objective function", "score", "reward", "assessment", "judgement",
                  "judgment", "verdict", "gradient", "result")),
    ("output", ("lm output", "output", "outputs", "prediction", "predicted", "response", "answer",
                "generation", "completion", "got", "model answer")),
    ("input", ("lm input", "input", "inputs", "question", "query", "problem", "instance",
               "task input", "x", "q")),
)
#: Labels that hold variables or instructions, never task data.
NOT_DATA = ("variable", "system prompt", "lm system prompt", "instruction", "instructions",
            "role", "constraints", "documentation", "code", "others", "memory", "history")

_DSPY = re.compile(r"^[ \t]*\[\[ ## ([\w.\-]+) ## \]\][ \t]*$", re.MULTILINE)
_TAG = re.compile(r"<([A-Za-z_][\w\-.]*)(\s[^<>]*)?>((?:(?!<\1[\s>]).)*?)</\1\s*>", re.DOTALL)
_HEAD = re.compile(r"^[ \t]*#{1,6}[ \t]*([A-Za-z][\w \-]{0,40}?)[ \t]*:?[ \t]*$", re.MULTILINE)
_LABEL = re.compile(r"^[ \t]*(?:[#>]+[ \t]*)?(?:[-*+][ \t]+)?(?:#[ \t]*)?(?:\*\*|__)?"
                    r"([A-Za-z][\w \-]{0,40}?)(?:\*\*|__)?[ \t]*:(?![/:])[ \t]*(?:\*\*|__)?",
                    re.MULTILINE)
_OPTO = re.compile(r"^\(([\w\[\], ]+)\)[ \t]*([\w.\-:]+)[ \t]*=[ \t]?", re.MULTILINE)
_ID = re.compile(r"^[ \t]*(?:ID|Id|id|Item|item|Example|example|Sample|sample|#)?[ \t]*"
                 r"[\[(]?(\d{1,3})[\])]?[ \t]*[:.)][ \t]*", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[ \t]*\|(.+)\|[ \t]*$", re.MULTILINE)
_CALL = re.compile(r"^[ \t]*([\w.\-]+)[ \t]*=[ \t]*[\w.]+\((.*)\)[ \t]*$", re.MULTILINE)
_DEFINITION = re.compile(r"^(?:the|a|an|this|these|specifies|describes|contains|holds|"
                         r"indicates|shows|where|what|which)\b", re.IGNORECASE)
_PHRASE = re.compile(r" (?:in|with|using|as|your|please|must|should|will|format|json|"
                     r"following|below|above|use|write) ")
CONTAINERS = ("example", "sample", "case", "demo", "demonstration", "entry", "record", "item",
              "instance", "error", "failure", "success", "attempt", "trial", "pair")


@dataclass
class Field:
    """One labelled value found in a message."""

    label: str
    kind: str  # input | output | expected | feedback | other
    value: str
    role: str = "user"
    msg: int = 0
    group: int = -1  # container id; -1 = the message itself
    index: int | None = None
    start: int = 0


@dataclass
class Pairing:
    """A task item with what the request shows about it."""

    profile: TaskProfile
    item: str
    output: str | None = None
    expected: str | None = None
    feedback: list[str] = field(default_factory=list)
    index: int | None = None


@lru_cache(maxsize=4096)
def words(label: str) -> str:
    """A label's words: lower case, `_`/`-`/digits/brackets to spaces, camelCase split."""
    label = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label)
    return " ".join(re.sub(r"[^a-z]+", " ", label.lower()).split())


@lru_cache(maxsize=4096)
def field_kind(label: str) -> str:
    """The field a label names (see `FIELD_WORDS`), 'other' when none."""
    w = words(label)
    if not w or any(w == n or w.endswith(" " + n) for n in NOT_DATA):
        return "other"
    if _PHRASE.search(f" {w} "):  # "Reply in JSON", "Your answer": a sentence, not a label
        return "other"
    padded = f" {w} "
    # A label is a noun phrase whose head names a field ("Model output", "Expected answer 3",
    # "Output of function"); a longer phrase that only mentions one is a sentence ("Read
    # the outputs critically:"), not a label.
    head = f" {re.split(r' (?:of|to|from|for|on|about|by) ', w)[0]} "  # "output of function"
    headed = any(head.endswith(f" {n} ") for _, names in FIELD_WORDS for n in names)
    if not headed and len(w.split()) > 2:
        return "other"
    for kind, names in FIELD_WORDS:
        if any(f" {n} " in padded for n in names):
            return kind
    return "other"


def _index_of(label: str) -> int | None:
    m = re.search(r"(\d+)\D*$", label)
    return int(m.group(1)) if m else None


def _is_definition(line_prefix: str, value: str) -> bool:
    """A glossary line: a bulleted or `#`-marked label whose value describes, on one line."""
    bullet = re.match(r"^[ \t]*(?:#+[ \t]*)?[-*+]|^[ \t]*#[ \t]*-", line_prefix) is not None
    first = value.strip().split("\n", 1)[0]
    return bullet and bool(_DEFINITION.match(first)) and len(first) < 300


class _Reader:
    def __init__(self) -> None:
        self.fields: list[Field] = []
        self.groups = 0

    def new_group(self) -> int:
        self.groups += 1
        return self.groups

    def add(self, label: str, value: str, role: str, msg: int, group: int, start: int,
            index: int | None = None, kind: str | None = None) -> None:
        value = value.strip()
        if not value:
            return
        kind = kind or field_kind(label)
        idx = index if index is not None else _index_of(label)
        f = Field(label, kind, value, role, msg, group, idx, start)
        self.fields.append(f)
        if self._inner(label, value, kind, role, msg, group, start, idx):
            f.kind = "other"  # a batch: its parts carry the meaning

    def _inner(self, label: str, value: str, kind: str, role: str, msg: int, group: int,
               start: int, idx: int | None) -> bool:
        """Sub-fields of a value: OPTO lines, numbered batches, a shown list. True when
        the value was split into parts."""
        heads = list(_OPTO.finditer(value))
        if heads:
            for i, h in enumerate(heads):
                end = heads[i + 1].start() if i + 1 < len(heads) else len(value)
                name = h.group(2)
                # "#Outputs\n(str) ask0=..." : the section names the field's meaning
                sub_kind = field_kind(name) if field_kind(name) != "other" else kind
                self.add(name, value[h.end():end], role, msg, group, start + h.start(),
                         kind=sub_kind)
            return True
        ids = list(_ID.finditer(value))
        if kind != "other" and len(ids) >= 2:
            for i, h in enumerate(ids):
                end = ids[i + 1].start() if i + 1 < len(ids) else len(value)
                self.fields.append(Field(label, kind, value[h.end():end].strip(), role, msg,
                                         group, int(h.group(1)), start + h.start()))
            return True
        if value[:1] == "[" and value[-1:] == "]" and len(value) < 100_000:
            try:
                items = ast.literal_eval(value)
            except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                items = None
            if isinstance(items, list) and len(items) >= 2 and all(isinstance(x, str) for x in items):
                for i, x in enumerate(items):
                    self.fields.append(Field(label, kind, str(x), role, msg, group, i, start))
                return True
        return False

    def read(self, text: str, role: str, msg: int, group: int = -1, offset: int = 0,
             depth: int = 0) -> None:
        if depth > 4 or not text.strip():
            return
        marks = list(_DSPY.finditer(text))
        if marks:
            self.read_plain(text[: marks[0].start()], role, msg, group, offset, depth)
            for i, m in enumerate(marks):
                end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
                body = text[m.end():end]
                if i + 1 == len(marks):  # the closing "Respond with ..." paragraph
                    body = re.sub(r"\n\s*\n(?:respond|reply|return)\b[^\n]*\s*\Z", "", body,
                                  flags=re.IGNORECASE)
                self.add_or_nest(m.group(1), body, role, msg, group, offset + m.end(), depth)
            return
        pos = 0
        rest = []
        for m in _TAG.finditer(text):
            rest.append((pos, m.start()))
            pos = m.end()
            prefix = text[text.rfind("\n", 0, m.start()) + 1: m.start()]
            name, body = m.group(1), m.group(3)
            eol = text.find("\n", m.end())
            after = text[m.end(): eol if eol >= 0 else len(text)]
            if not body.strip() and _is_definition(prefix, after):
                continue  # "- <TAG></TAG>: the ..." in a glossary
            self.add_or_nest(name, body, role, msg, group, offset + m.start(3), depth,
                             attrs=m.group(2) or "")
        rest.append((pos, len(text)))
        for a, b in rest:
            self.read_plain(text[a:b], role, msg, group, offset + a, depth)

    def add_or_nest(self, name: str, body: str, role: str, msg: int, group: int, start: int,
                    depth: int, attrs: str = "") -> None:
        w = words(name)
        if body.strip()[:1] in ("[", "{") and self._json(body.strip(), role, msg, start, whole=True):
            return
        nested = bool(_TAG.search(body) or _DSPY.search(body)
                      or len([m for m in _LABEL.finditer(body) if field_kind(m.group(1)) != "other"]) >= 2)
        if any(w == c or w.endswith(" " + c) or w.startswith(c + " ") for c in CONTAINERS) or \
                (field_kind(name) == "other" and nested and "variable" not in w):
            g = self.new_group()
            idx = _index_of(name) if _index_of(name) is not None else _attr_index(attrs)
            before = len(self.fields)
            self.read(body, role, msg, g, start, depth + 1)
            if idx is not None:
                for f in self.fields[before:]:
                    if f.index is None:
                        f.index = idx
            return
        self.add(name, body, role, msg, group, start)

    def read_plain(self, text: str, role: str, msg: int, group: int, offset: int,
                   depth: int) -> None:
        """Headings, `Label:` lines, JSON objects and tables in text without tags."""
        if not text.strip():
            return
        self._tables(text, role, msg, offset)
        self._json(text, role, msg, offset)
        heads = []
        for m in _HEAD.finditer(text):
            heads.append((m.start(), m.end(), m.group(1), ""))
        for m in _LABEL.finditer(text):
            if any(a <= m.start() < b for a, b, _, _ in heads):
                continue
            label = m.group(1).strip()
            if len(label.split()) > 4:
                continue
            eol = text.find("\n", m.end())
            value_line = text[m.end(): eol if eol >= 0 else len(text)]
            if _is_definition(text[m.start(): m.start(1)], value_line):
                heads.append((m.start(), eol if eol >= 0 else len(text), "", "skip"))
                continue
            heads.append((m.start(), m.end(), label, "label"))
        heads.sort()
        # An unnamed label right at the start of a field's value is part of the value
        # ("#Feedback\nWrong: ..."), not a new field.
        kept: list[tuple[int, int, str, str]] = []
        for a, b, label, mark in heads:
            if kept and mark == "label" and field_kind(label) == "other" and kept[-1][2] \
                    and not text[kept[-1][1]:a].strip():
                continue
            kept.append((a, b, label, mark))
        heads = kept
        for i, (a, b, label, mark) in enumerate(heads):
            end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
            if mark == "skip" or not label:
                continue
            eol = text.find("\n", b)
            if mark == "label" and text[b: eol if eol >= 0 else end].strip():
                # "Label: value" on one line runs to the end of its paragraph
                blank = re.search(r"\n[ \t]*\n", text[b:end])
                end = b + blank.start() if blank else end
            self.add(label, text[b:_fence_end(text, b, end)], role, msg, group, offset + b)

    def _json(self, text: str, role: str, msg: int, offset: int, whole: bool = False) -> int:
        """Records from JSON objects (or lists of them) in `text`; how many were read."""
        found = 0
        starts = [0] if whole else [m.start() for m in re.finditer(r"[{\[]", text)][:50]
        for start in starts:
            obj = _json_at(text, start)
            if obj is None:
                continue
            objs = obj if isinstance(obj, list) else [obj]
            for i, o in enumerate(objs):
                if not isinstance(o, dict):
                    continue
                keys = [k for k in o if isinstance(k, str)]
                if not any(field_kind(k) != "other" for k in keys):
                    continue
                g = self.new_group()
                found += 1
                for k in keys:
                    v = o[k]
                    self.add(k, v if isinstance(v, str) else json.dumps(v), role, msg, g,
                             offset + start, i if isinstance(obj, list) else None)
        return found

    def _tables(self, text: str, role: str, msg: int, offset: int) -> None:
        rows = [(m.start(), [c.strip() for c in m.group(1).split("|")])
                for m in _TABLE_ROW.finditer(text)]
        if len(rows) < 3 or not all(re.fullmatch(r":?-{2,}:?", c) for c in rows[1][1]):
            return
        header = rows[0][1]
        if not any(field_kind(h) != "other" for h in header):
            return
        for i, (pos, cells) in enumerate(rows[2:]):
            g = self.new_group()
            for h, c in zip(header, cells, strict=False):
                self.add(h, c, role, msg, g, offset + pos, i)


_FENCE_LINE = re.compile(r"^[ \t]*```[\w-]*[ \t]*$", re.MULTILINE)


def _fence_end(text: str, start: int, end: int) -> int:
    """Where a field's value in `text[start:end]` ends at a code fence: a value that opens
    with a fence runs to its closing fence; any other value stops at the first fence (the
    end of the fenced block that holds the field), so the request's own instructions
    after that block are never read as part of the last field."""
    fences = list(_FENCE_LINE.finditer(text, start, end))
    if not fences:
        return end
    if text[start:fences[0].start()].strip():
        return fences[0].start()
    return fences[1].end() if len(fences) > 1 else end


def _attr_index(attrs: str) -> int | None:
    m = re.search(r"""\b(?:id|index|n|i)\s*=\s*["']?(\d+)""", attrs)
    return int(m.group(1)) if m else None


def _json_at(text: str, start: int) -> object | None:
    """The JSON value starting at `start`, if one parses there (quick bracket scan)."""
    opener = text[start]
    closer = "}" if opener == "{" else "]"
    depth, in_str, esc = 0, False, False
    for i in range(start, min(len(text), start + 200_000)):
        ch = text[i]
        if in_str:
            esc = (ch == "\\") and not esc
            if ch == '"' and not esc:
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                if ch != closer:
                    return None
                try:
                    return json.loads(text[start: i + 1])
                except ValueError:
                    return None
    return None


def read_fields(messages: Sequence[tuple[str, str]]) -> list[Field]:
    """Every labelled field of a conversation, glossary lines skipped, system-message
    fields dropped for each kind a user or assistant message carries."""
    r = _Reader()
    for i, (role, content) in enumerate(messages):
        r.read(content, role, i)
    data_kinds = {f.kind for f in r.fields if f.role != "system"}
    fields = [f for f in r.fields
              if not (f.role == "system" and f.kind in data_kinds and f.kind != "other")]
    _runs(fields, r)
    return fields


def _runs(fields: list[Field], r: _Reader) -> None:
    """Loose `Label:` fields written one example after another: each input starts a
    record holding the output, expected and feedback fields that follow it."""
    for msg in {f.msg for f in fields}:
        loose = sorted((f for f in fields if f.msg == msg and f.group == -1 and f.index is None
                        and f.kind != "other"), key=lambda f: f.start)
        if sum(f.kind == "input" for f in loose) < 2:
            continue
        group = None
        for f in loose:
            if f.kind == "input":
                group = r.new_group()
            if group is not None:
                f.group = group


def code_links(messages: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Shown computation `out = f(a=x, b=y)`: the names each out is computed from."""
    links: dict[str, list[str]] = {}
    for _, content in messages:
        for m in _CALL.finditer(content):
            args = re.findall(r"(?:[\w.]+\s*=\s*)?([\w.\-]+)", m.group(2))
            links.setdefault(m.group(1), []).extend(args)
    return links


def pair_items(messages: Sequence[tuple[str, str]], fields: Sequence[Field],
               profiles: Sequence[TaskProfile]) -> tuple[list[Pairing], list[str]]:
    """Each task item found in the fields, with its output, expected answer and feedback;
    and the feedback that belongs to no one item (shown for the whole batch)."""
    from undertow.bench.sim.items import last_item

    links = code_links(messages)
    by_label = {f.label: f for f in fields}
    seen: set[tuple[str, int | None, int]] = set()
    pairs: list[Pairing] = []
    holders = [f for f in fields if f.kind == "input"] or \
        [f for f in fields if f.kind == "other" and f.group != -1]
    for f in holders:
        found = last_item(f.value, profiles)
        if not found:
            continue
        profile, item = found
        key = (item.text, f.index, f.group)
        if key in seen:
            continue
        seen.add(key)
        pairs.append(Pairing(profile, item.text, index=f.index if f.index is not None else None))
        p = pairs[-1]
        p._source = f  # type: ignore[attr-defined]
    # positions: items without an index get their order among the items
    for n, p in enumerate(pairs):
        if p.index is None:
            p.index = n
    general: list[str] = []
    used_fb: set[int] = set()
    for p in pairs:
        src: Field = p._source  # type: ignore[attr-defined]
        same = [g for g in fields if g.group == src.group and g.group != -1 and g is not src
                and (g.index is None or src.index is None or g.index == src.index)]
        for kind in ("output", "expected"):
            cand = [g for g in same if g.kind == kind]
            if not cand and kind == "output":
                outs = [o for o, args in links.items() if src.label in args]
                cand = [by_label[o] for o in outs if o in by_label]
            if not cand:
                cand = [g for g in fields if g.kind == kind and g.index is not None
                        and g.index == p.index and g.group == -1]
            if not cand and len(pairs) == 1:
                cand = [g for g in fields if g.kind == kind and g.index is None]
            if cand:
                setattr(p, kind, cand[-1].value)
        fbs = [g for g in same if g.kind == "feedback"]
        if not fbs:
            fbs = [g for g in fields if g.kind == "feedback" and g.index is not None
                   and g.index == p.index and g.group == -1]
        if not fbs and len(pairs) == 1:
            fbs = [g for g in fields if g.kind == "feedback" and g.index is None]
        for g in fbs:
            used_fb.add(id(g))
            p.feedback.append(g.value)
    for g in fields:
        if g.kind == "feedback" and id(g) not in used_fb and g.index is None:
            general.append(g.value)
    return pairs, general


def read_blocks(messages: Sequence[tuple[str, str]], profiles: Sequence[TaskProfile]
                ) -> tuple[list[Block], list[Field]]:
    """The request's evidence as blocks (one per task item, with its output, expected
    answer and feedback; one per batch-wide feedback), and the fields read."""
    fields = read_fields(messages)
    pairs, general = pair_items(messages, fields, profiles)
    blocks: list[Block] = []
    for p in pairs:
        fb = "\n".join(p.feedback)
        got = {"input": p.item, "output": p.output, "expected": p.expected, "feedback": fb}
        got = {k: v for k, v in got.items() if v}
        blocks.append(Block("\n".join(got.values()), got))
    for g in general:
        blocks.append(Block(g, {"feedback": g}))
    if not pairs:
        for f in fields:
            if f.kind in ("output", "feedback") and not (f.kind == "feedback" and f.value in general):
                blocks.append(Block(f.value, {f.kind: f.value}))
    return blocks, fields
