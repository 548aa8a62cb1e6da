"""Reading helpers shared by the sim's AutoLibra roles (grounding, clustering, rating).

What a model "knows" here is generic: English stop words, a crude stemmer, and a small
lexicon of concepts that reviews of agent runs commonly talk about (repetition, asking
the user, giving up, units, length, correctness, tool use, making things up, errors,
politeness, speed), each with several synonyms. Nothing here knows a task's data or our
request wording; the readers accept steps, feedback and lists in several layouts
(`[step 3]`, `Step 3:`, `(step 3)`, JSON; `Label:` lines, tags, markdown headings).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from undertow.bench.sim.profile import cue_in, normalize

STOP = frozenset("""a an the and or but of to in on at for with by from as is are was were be been being it its
this that these those he she they them his her their i you we our your my me us so than then
very can could would should will shall may might must has have had having just also only about into over
after before out up down off there here what which who whom when where why how all any both each few more
most other some such own if because while agent run runs reviewer user""".split())

#: concept -> (gloss of the bad behaviour, gloss of the good one, synonyms: words or `a ... b` cues)
CONCEPTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "repetition": ("repeating an action it already did, such as the same tool call",
                   "does each action once, without repeating the same call",
                   ("repeat", "repeated", "repeats", "repeating", "twice", "again", "same query", "same call",
                    "same tool call", "two times", "redundant", "duplicate", "once more", "loop", "over and over")),
    "asking_user": ("asking the user for information instead of finding it",
                    "finds information itself instead of asking the user",
                    ("asked me", "asks me", "asked the user", "asks the user", "asking the user", "question back",
                     "put the question back", "clarifying question", "asked for", "asking me")),
    "giving_up": ("giving up without trying",
                  "keeps trying until it has an answer",
                  ("gave up", "give up", "gives up", "quit", "did not know", "didn't know", "don't know",
                   "without even trying", "no attempt", "said sorry", "refused")),
    "units": ("answering without the unit of measurement",
              "states the unit of measurement with the number",
              ("unit", "units", "bare number", "what?", "measurement")),
    "length": ("giving an over-long, wordy answer",
               "keeps the answer short and to the point",
               ("too long", "long", "wordy", "verbose", "rambling", "padded", "on and on", "concise", "concisely",
                "brief", "short", "unnecessary text", "lengthy")),
    "correctness": ("giving a wrong answer", "gives the correct answer",
                    ("correct", "right value", "wrong", "incorrect", "accurate", "mistake")),
    "tool_use": ("answering without using its tools", "uses its tools to check before answering",
                 ("checked the catalog", "looked", "lookup", "look up", "looked up", "checking the tool",
                  "searching", "search", "tool", "checked", "database")),
    "fabrication": ("making facts up", "sticks to facts it found",
                    ("made up", "invented", "hallucinated", "fabricated", "not true")),
    "errors": ("causing errors or crashes", "runs without errors",
               ("error", "crash", "exception", "failed", "broke")),
    "politeness": ("being rude", "being polite", ("rude", "polite", "friendly", "impolite", "tone")),
    "speed": ("being slow", "being quick", ("slow", "quick", "took ages", "fast", "too many steps")),
}

NEGATIVE_CUES = ("not", "no", "never", "without", "instead", "too", "missing", "lacks", "redundant",
                 "unnecessary", "wrong", "failed", "gave up", "quit", "what?", "should", "rather than",
                 "way too", "for no reason", "bad", "poor", "annoying", "didn't", "did not", "sorry")
POSITIVE_CUES = ("good", "nice", "great", "liked", "correct", "right", "properly", "clear", "well",
                 "helpful", "excellent", "perfect", "glad", "appreciated", "brief")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A crude stem, so `repeats`/`repeated`/`repeating` meet."""
    w = word.lower()
    for suffix in ("ingly", "edly", "ing", "ed", "es", "ly", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def abstract(text: str) -> str:
    """`text` without names and numbers (capitalized words inside a sentence, digits)."""
    text = re.sub(r"\d+(?:\.\d+)?", " ", text)
    return re.sub(r"(?<=[a-z,;] )[A-Z][a-z]+", " ", text)


def content_words(text: str) -> list[str]:
    """Stemmed content words of `text`, in order."""
    return [stem(w) for w in re.findall(r"[A-Za-z][A-Za-z']+", text.replace("'", " "))
            if w.lower() not in STOP and len(w) > 2]


def concepts_in(text: str) -> list[str]:
    """The concepts whose synonyms `text` mentions."""
    norm = normalize(text)
    return [c for c, (_, _, syns) in CONCEPTS.items() if any(cue_in(s, norm) for s in syns)]


def polarity_of(sentence: str) -> str:
    """`negative` or `positive` from cue words (complaints are the default)."""
    neg = sum(1 for c in NEGATIVE_CUES if cue_in(c, sentence))
    pos = sum(1 for c in POSITIVE_CUES if cue_in(c, sentence))
    return "positive" if pos > neg else "negative"


def sentences(text: str) -> list[str]:
    """Sentences of `text` (a `?` or `!` ends one; so does `.` before a space)."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text.strip())
    return [p.strip() for p in parts if len(p.strip()) > 2]


@dataclass(frozen=True)
class StepLine:
    index: int
    kind: str
    text: str


_STEP = re.compile(r"^[ \t>*-]*[\[(#]?\s*step\s*#?\s*(\d+)\s*[\])]?\s*[-:.)]?\s*(.*)$",
                   re.IGNORECASE | re.MULTILINE)
_KIND = re.compile(r"^\s*\(?\s*(thought|thinking|reasoning|tool[_ ]call|action|call|observation|result|"
                   r"tool output|output|final answer|answer|response)\b\s*(?:\(([\w-]+)\))?\s*\)?\s*[:\-]?\s*",
                   re.IGNORECASE)
_KINDS = {"thinking": "thought", "reasoning": "thought", "action": "tool_call", "call": "tool_call",
          "tool call": "tool_call", "tool_call": "tool_call", "result": "observation",
          "tool output": "observation", "final answer": "output", "answer": "output", "response": "output"}


def _step_from(index: int, body: str) -> StepLine:
    m = _KIND.match(body)
    kind = ""
    if m:
        raw = m.group(1).lower()
        kind = _KINDS.get(raw, raw)
        body = body[m.end():]
    return StepLine(index, kind, body.strip())


def read_steps(text: str) -> list[StepLine]:
    """The steps of an agent run shown in `text` (step-numbered lines, or JSON step objects)."""
    found = [_step_from(int(m.group(1)), m.group(2)) for m in _STEP.finditer(text)]
    if found:
        return found
    for m in re.finditer(r"\[\s*\{", text):
        try:
            data, _ = json.JSONDecoder().raw_decode(text[m.start():])
        except ValueError:
            continue
        if isinstance(data, list) and all(isinstance(d, dict) for d in data):
            out = []
            for i, d in enumerate(data):
                body = str(d.get("text") or d.get("content") or "")
                kind = str(d.get("kind") or d.get("type") or "")
                out.append(StepLine(int(d.get("index", i)) if str(d.get("index", i)).isdigit() else i,
                                    _KINDS.get(kind.lower(), kind.lower()), body))
            if out and any(s.text for s in out):
                return out
    return []


def json_keys(keys: list[str], wanted: dict[str, tuple[str, ...]], default: dict[str, str]) -> dict[str, str]:
    """Our field -> the key the request asks for (exact synonym first, then a key containing
    one), else the default key; each asked key serves one field."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for exact in (True, False):
        for field, syns in wanted.items():
            if field in out:
                continue
            for k in keys:
                low = k.lower()
                if k not in used and any((low == s) if exact else (s in low) for s in syns):
                    out[field] = k
                    used.add(k)
                    break
    for field in wanted:
        if field not in out:
            out[field] = default[field] if default[field] not in used else f"{default[field]}_"
    return out


_FEEDBACK_WORDS = ("feedback", "review", "comment", "comments", "remarks", "critique", "complaint",
                   "complaints", "opinion", "notes", "user said", "verdict")
_FEEDBACK_TAG = re.compile(r"<([\w-]*(?:feedback|review|comments?|remarks|critique|opinion)[\w-]*)>(.*?)</\1\s*>",
                           re.IGNORECASE | re.DOTALL)
_FEEDBACK_JSON = re.compile(r'"(?:feedback|review|comments?|remarks|critique)"\s*:\s*"((?:[^"\\]|\\.)*)"',
                            re.IGNORECASE)


def _is_label(head: str) -> bool:
    words = head.strip(" #*-").split()
    return 0 < len(words) <= 5 and any(cue_in(w, head) for w in _FEEDBACK_WORDS)


def read_feedback(text: str) -> str:
    """The free-text feedback a request shows (tag, JSON field, `Label:` line or heading), or ''."""
    m = _FEEDBACK_TAG.search(text)
    if m:
        return m.group(2).strip()
    m = _FEEDBACK_JSON.search(text)
    if m:
        return json.loads(f'"{m.group(1)}"').strip()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head, colon, rest = line.partition(":")
        heading = line.lstrip().startswith("#") and _is_label(line)
        if not heading and not (colon and _is_label(head)):
            continue
        body = [] if heading else ([rest.strip()] if rest.strip() else [])
        for nxt in lines[i + 1:]:
            if not nxt.strip():
                if body:
                    break
                continue
            if nxt.lstrip().startswith("#") or _STEP.match(nxt) or re.match(r"^\s*[\w' ]{1,40}:\s*$", nxt):
                break
            body.append(nxt.strip())
        if body:
            return " ".join(body)
    return ""
