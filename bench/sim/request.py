"""Reading a request the way a model would: its role, its variables, its examples, its format.

The request convention (see docs/sim.md) that optimizer prompts follow:

    <variable name="system_prompt" kind="text">current value</variable>
    <example>
    <input>the task input</input> <output>the model's output</output>
    <expected>the right answer</expected> <feedback>what was wrong</feedback>
    </example>
    Reply in JSON with keys "reasoning" and "suggestion" (variable name -> new value).

Variations are tolerated: `Label: value` lines instead of tags, synonyms (question,
prediction, target, gold, ...), TextGrad-style `<VARIABLE>`/`<LM_INPUT>` tags,
OPTO-style `#Variables` sections with `(str) name=value` lines, tag-wrapped answers
("between <IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>") and JSON templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from undertow.bench.sim.profile import cue_in

Role = Literal["optimize", "critique", "answer"]

_ATTR = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_VAR_TAG = re.compile(r"<variable\b([^>]*)>(.*?)</variable\s*>", re.IGNORECASE | re.DOTALL)
_BARE_VAR = re.compile(
    r"<(variable|lm_system_prompt|system_prompt|current_prompt|prompt|instruction)>(.*?)</\1>",
    re.IGNORECASE | re.DOTALL)
_OPTO_SECTION = re.compile(r"^#\s*Variables\s*\n(.*?)(?=^#\s*\w|\Z)", re.MULTILINE | re.DOTALL)
_OPTO_LINE = re.compile(r"^\((\w+)\)\s*([\w.\-]+)\s*[=:]\s*", re.MULTILINE)
# A fenced block introduced by a line that names it an instruction or prompt
# ("I gave the assistant the following instructions:\n```\n...\n```").
_FENCED_VAR = re.compile(r"^[^\n]*\b(instructions?|prompt|system prompt)\b[^\n]*:[ \t]*\n"
                         r"```[\w-]*[ \t]*\n(.*?)\n```", re.IGNORECASE | re.MULTILINE | re.DOTALL)
_CURRENT = re.compile(r"current (?:system )?(?:prompt|instructions?|value)\s*(?:is)?\s*:\s*\n?(.+?)"
                      r"(?:\n\s*\n|\Z)", re.IGNORECASE | re.DOTALL)

FIELDS: dict[str, tuple[str, ...]] = {
    "expected": ("expected output", "expected answer", "expected", "correct answer",
                 "gold answer", "gold", "target", "label", "reference", "ground truth"),
    "output": ("lm_output", "model output", "model answer", "outputs", "output", "prediction",
               "predicted", "response", "got", "answer", "reply"),
    "input": ("lm_input", "inputs", "input", "question", "query", "q"),
    "feedback": ("feedback", "critique", "evaluation", "error", "comment", "result"),
}
_LABEL_TO_FIELD = {label: f for f, labels in FIELDS.items() for label in labels}
_LABELS = "|".join(re.escape(lbl).replace(r"\ ", r"[ _]")
                   for lbl in sorted(_LABEL_TO_FIELD, key=len, reverse=True))
# "Label: value" lines, or a "#Label" heading line (OPTO style) followed by the value.
_LABEL_LINE = re.compile(rf"^[ \t#*-]*({_LABELS})[ \t]*:[ \t]*|^[ \t]*#+[ \t]*({_LABELS})[ \t]*\n",
                         re.IGNORECASE | re.MULTILINE)
_OPTO_VALUE = re.compile(r"^\(\w+\)\s*[\w.\-]+\s*=\s*")
_EXAMPLE_TAG = re.compile(r"<(example|sample|case|error)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_INPUT_START = re.compile(r"^[ \t#*-]*(?:<(?:lm_)?input>|(?:lm_input|input|question|q)[ \t]*:)",
                          re.IGNORECASE | re.MULTILINE)

_NEW_VALUE = ("improved variable", "improved version", "improved prompt", "new value",
              "new prompt", "revised prompt", "revised version", "updated prompt", "rewrite",
              "rewritten", "suggestion", "propose ... new", "suggest ... new", "revise",
              "better prompt", "new version", "change ... value", "suggest ... change",
              "new instruction", "propose ... instruction", "improved instruction")
_CRITIQUE = ("critique", "criticize", "criticise", "criticism", "give feedback", "provide feedback",
             "feedback on", "feedback to", "what is wrong", "how ... could be improved",
             "how ... can be improved")
_NEGATED = re.compile(r"\b(?:do not|don't|never|must not|should not|shouldn't|not to)\b",
                      re.IGNORECASE)
_IMPROVE = ("improve", "optimize", "optimise", "fix", "better")


@dataclass
class Variable:
    """A parameter shown in a request: its name, kind (text, code, float, ...) and value."""

    name: str
    kind: str
    value: str
    #: The tag's other attributes (`bounds`, `min`, `max`, ...), lower-case keys.
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Block:
    """One shown example: whatever of input/output/expected/feedback it has, and its raw text."""

    raw: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Format:
    """How the reply must be written: JSON with `keys`, text inside `tag`, inside ```
    fences ("fence"), or plain."""

    kind: Literal["json", "tag", "plain", "fields", "fence"] = "plain"
    keys: list[str] = field(default_factory=list)
    tag: str = ""
    #: For kind "fields": the marker that closes the reply (`[[ ## completed ## ]]`).
    end_marker: str = ""


def _kind(raw: str) -> str:
    raw = raw.lower()
    if raw in ("code", "function", "python", "callable"):
        return "code"
    if raw in ("float", "int", "choice", "json", "bool", "number"):
        return raw
    return "text"


def parse_variables(text: str) -> list[Variable]:
    """The variables shown in a request, in order of appearance (see the module docstring)."""
    found: list[Variable] = []
    for m in _VAR_TAG.finditer(text):
        attrs = {a.lower(): (b or c or d) for a, b, c, d in _ATTR.findall(m.group(1))}
        name = attrs.get("name") or f"variable_{len(found)}"
        found.append(Variable(name, _kind(attrs.get("kind") or attrs.get("type") or "text"),
                              m.group(2).strip("\n"), attrs))
    if found:
        return found
    for m in _BARE_VAR.finditer(text):
        found.append(Variable(m.group(1).lower(), "text", m.group(2).strip()))
    if found:
        return found
    section = _OPTO_SECTION.search(text)
    if section:
        body = section.group(1)
        heads = list(_OPTO_LINE.finditer(body))
        for i, h in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
            found.append(Variable(h.group(2), _kind(h.group(1)), body[h.end():end].strip()))
        if found:
            return found
    m = _FENCED_VAR.search(text)
    if m:
        name = "instruction" if m.group(1).lower().startswith("instruction") else "prompt"
        return [Variable(name, "text", m.group(2).strip())]
    m = _CURRENT.search(text)
    if m:
        found.append(Variable("prompt", "text", m.group(1).strip()))
    return found


def _fields(chunk: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f, labels in FIELDS.items():
        for label in labels:
            tag = label.replace(" ", "_")
            m = re.search(rf"<{tag}>(.*?)</{tag}\s*>", chunk, re.IGNORECASE | re.DOTALL)
            if m and f not in out:
                out[f] = m.group(1).strip()
    heads = list(_LABEL_LINE.finditer(chunk))
    for i, h in enumerate(heads):
        f = _LABEL_TO_FIELD[re.sub(r"[ _]+", " ", (h.group(1) or h.group(2)).lower())]
        end = heads[i + 1].start() if i + 1 < len(heads) else len(chunk)
        out.setdefault(f, _OPTO_VALUE.sub("", chunk[h.end():end].strip()))
    return out


def parse_blocks(text: str) -> list[Block]:
    """The examples a request shows: `<example>` blocks, else chunks starting at an input
    label, else the whole text as one block."""
    text = _VAR_TAG.sub(" ", text)
    chunks = [m.group(2) for m in _EXAMPLE_TAG.finditer(text)]
    rest = _EXAMPLE_TAG.sub(" ", text)
    starts = [m.start() for m in _INPUT_START.finditer(rest)]
    chunks += [rest[a:b] for a, b in zip(starts, [*starts[1:], len(rest)], strict=False)]
    if not chunks:
        chunks = [text]
    return [Block(c, _fields(c)) for c in chunks]


def classify(text: str, has_variables: bool) -> Role:
    """What the request asks: a new parameter value, a critique, or a plain answer.

    Sentences that forbid something ("DO NOT propose a new version") are not requests."""
    text = " ".join(x for x in re.split(r"(?<=[.!?\n])\s+", text) if not _NEGATED.search(x))
    asks_new = any(cue_in(c, text) for c in _NEW_VALUE)
    asks_critique = any(cue_in(c, text) for c in _CRITIQUE)
    if has_variables and asks_new:
        return "optimize"
    if asks_critique:
        return "critique"
    if has_variables and any(cue_in(c, text) for c in _IMPROVE):
        return "optimize"
    return "answer"


_JSON_KEY = re.compile(r"""["'](\w+)["']\s*:""")
_KEY_LIST = re.compile(r"keys?\b[^.\n]*", re.IGNORECASE)
_QUOTED = re.compile(r"""["'`](\w+)["'`]""")
_TAG_TEMPLATE = re.compile(r"<(\w+)>([^<>]{0,60})</\1>", re.DOTALL)
_NOT_OUTPUT_TAGS = {"variable", "example", "input", "output", "expected", "feedback",
                    "lm_input", "lm_output", "lm_system_prompt", "q", "a"}


_FIELD_MARK = re.compile(r"\[\[ ## ([\w.\-]+) ## \]\]")
_OUTPUT_FIELDS = re.compile(r"output fields? (?:are|is)\s*:?\s*\n((?:[ \t]*(?:\d+[.)]|[-*])[^\n]*\n?)+)",
                            re.IGNORECASE)
_ASKED_TAG = re.compile(r"(?:between|within|inside|wrap\w*|enclos\w*|surround\w*)\s+(?:the\s+)?"
                        r"(?:following\s+)?(?:tags?\s+)?<(\w+)>", re.IGNORECASE)
# "Provide the new instruction within ``` blocks" / "inside triple backticks"
_ASKED_FENCE = re.compile(r"(?:between|within|inside|in|wrap\w*|enclos\w*|surround\w*)\s+(?:a\s+|the\s+)?"
                          r"(?:```|triple[ -]backticks?|(?:code\s+)?fences?\b|(?:markdown\s+)?code\s+blocks?)",
                          re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\.\.\.|\{|your|here|new|improved|revised|answer|text", re.IGNORECASE)


def schema_format(response_format: object) -> Format | None:
    """The format a `response_format` asks for (OpenAI style), or None."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        props = schema.get("properties") if isinstance(schema, dict) else None
        return Format("json", list(props) if isinstance(props, dict) else [])
    if kind == "json_object":
        return Format("json", [])
    return None


def parse_format(instructions: str) -> Format:
    """The reply format `instructions` ask for (variables and examples already removed)."""
    marks = _FIELD_MARK.findall(instructions)
    if marks:
        listed = _OUTPUT_FIELDS.search(instructions)
        outs = re.findall(r"`([\w.\-]+)`", listed.group(1)) if listed else []
        if not outs:  # "starting with the field `[[ ## a ## ]]`, then ..."
            asked = re.search(r"(?:respond|reply|output)[^\n]*?(\[\[ ## .*)", instructions,
                              re.IGNORECASE)
            outs = _FIELD_MARK.findall(asked.group(1)) if asked else []
        outs = [o for o in dict.fromkeys(outs) if o != "completed"]
        if outs:
            return Format("fields", outs, end_marker="[[ ## completed ## ]]"
                          if "completed" in marks else "")
    if re.search(r"\bjson\b", instructions, re.IGNORECASE):
        keys = _JSON_KEY.findall(instructions)
        if not keys:
            for m in _KEY_LIST.finditer(instructions):
                # values listed in parentheses ("better" ("A" or "B")) are not keys
                keys += _QUOTED.findall(re.sub(r"\([^)]*\)", " ", m.group(0)))
        return Format("json", list(dict.fromkeys(keys)))
    if _ASKED_FENCE.search(instructions):
        return Format("fence")
    asked = [t for t in _ASKED_TAG.findall(instructions) if t.lower() not in _NOT_OUTPUT_TAGS]
    if asked:
        return Format("tag", tag=asked[-1])
    tags = [m.group(1) for m in _TAG_TEMPLATE.finditer(instructions)
            if m.group(1).lower() not in _NOT_OUTPUT_TAGS and _PLACEHOLDER.search(m.group(2))]
    if tags:
        return Format("tag", tag=tags[-1])
    return Format("plain")


_HISTORY_TAG = re.compile(r"<(history|memory|past)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_HISTORY_SECTION = re.compile(r"^#\s*(?:Memory|History|Past\s+\w+)\b[^\n]*\n(.*?)(?=^#\s*\w|\Z)",
                              re.MULTILINE | re.DOTALL | re.IGNORECASE)


def split_history(text: str) -> tuple[str, list[str]]:
    """`text` without its history sections, and their bodies in order.

    A history holds past (values, feedback) pairs: `<history>`/`<memory>` blocks or
    an OPTO-style `#Memory` / `#History` section. It is set aside so that past values
    are never read as the current variables or past feedback as the current one.
    """
    bodies: list[str] = []

    def keep(m: re.Match[str]) -> str:
        bodies.append(m.group(m.lastindex or 1))
        return " "

    text = _HISTORY_TAG.sub(keep, text)
    text = _HISTORY_SECTION.sub(keep, text)
    return text, bodies


def strip_shown(text: str) -> str:
    """`text` without its variable blocks and example blocks: the request's own instructions."""
    return _EXAMPLE_TAG.sub(" ", _VAR_TAG.sub(" ", text))
