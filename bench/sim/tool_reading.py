"""How the simulator reads a tool-use request and decides the next call (roles
`tool_step` and `tool_estimate`).

It reads only what the request shows, in whatever layout:

* the tools: usage lines (``name[placeholder]: what it does``) and documented
  examples (``... Example: name[args] -> result``), with the vocabulary of each
  tool's documentation block;
* the question and its steps (numbered ``Step N:`` / ``N.`` lines, else sentences);
* the steps so far: ``Action|Call|Tool call: name[args]`` lines each followed by an
  ``Observation|Result|Output: ...`` line.

The next call is the documented example whose description best overlaps the current
step of the question, with the example's arguments rewritten from the step's own
values (numbers, dates, paths, unit words: slot by slot, by shape), or, when the
description names operators in backticks, the expression ``a <op> b``. It follows the
documentation as written: a wrong doc gives a wrong call (a silent wrong result or an
error observation), and better docs give better calls. After an error it does not
repeat the failed call and tries the next reading. It never sees an expected answer.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z][a-z0-9]*")
_STOP = frozenset("a an the of in on at to for is are was what which who how many much does do did "
                  "and or by with from as be it its that this then give find compute use result "
                  "previous value step".split())
_USAGE = re.compile(r"^[\s\-*#>`]*(?:\*\*)?([A-Za-z_]\w*)\[([^\]\n]*)\]`?\s*(?:\*\*)?\s*[:\-–]\s*(.*)$",
                    re.MULTILINE)
_LISTED = re.compile(r"^[\s\-*#>]*`?([A-Za-z_]\w*)`?\s*:\s*(.*)$", re.MULTILINE)
_EXAMPLE_LINE = re.compile(
    r"^(?P<desc>[^\n]*?)\b(?:Example|E\.g\.|For example|Usage|Sample)\s*:?\s*`?"
    r"(?P<tool>[A-Za-z_]\w*)\[(?P<args>[^\]\n]*)\]`?\s*(?:->|→|=>|returns|gives)?\s*(?P<out>[^\n]*)$",
    re.MULTILINE | re.IGNORECASE)
_QUESTION = re.compile(
    r"(?:^|\n)[ \t#*>-]*(?:<(?:question|task|query|problem)>|(?:question|task|query|problem|user request)"
    r"[ \t]*[:：])[ \t]*\n?", re.IGNORECASE)
_QUESTION_END = re.compile(r"</(?:question|task|query|problem)>|\n[ \t#*>-]*(?:thought|action|call|tool call|"
                           r"steps so far|history|observation|trajectory|progress|previous steps)\b",
                           re.IGNORECASE)
_CALL = re.compile(r"^[ \t#*>\-\d.)]*(?:action|call|tool call|tool|invoke)\s*[:=]\s*`?([A-Za-z_]\w*)\[(.*)\]`?\s*$",
                   re.MULTILINE | re.IGNORECASE)
_OBS = re.compile(r"^[ \t#*>-]*(?:observation|result|output|tool result|returned|response)\s*[:=]\s*(.*)$",
                  re.MULTILINE | re.IGNORECASE)
_STEP = re.compile(r"^[ \t*>-]*(?:step\s*)?(\d+)\s*[:.)]\s*(.+)$", re.MULTILINE | re.IGNORECASE)
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b|\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_NUMBER = re.compile(r"(?<![\w./-])-?\d+(?:\.\d+)?(?![\w/-])")
_PATHLIKE = re.compile(r"^[\w.-]*[/._][\w./-]*$")
_BACKTICKS = re.compile(r"`([^`\s\w]{1,3}|[a-z]{2,4})`")
_ERROR = re.compile(r"^\s*error\b", re.IGNORECASE)
_PARAM = re.compile(r"\b([a-z_]+)=(<[^>\s]+>|[\w-]+)")
_PREVIOUS = re.compile(r"\b(?:previous|last|prior|that)\s+(?:result|answer|value|output|date|number)\b|"
                       r"\bthe result\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|never|no)\b[^.;,)]*", re.IGNORECASE)
_COUNT = re.compile(r"\b(?:count|how many|number of)\b", re.IGNORECASE)
_ALL_PAGES = re.compile(r"\b(?:all pages|every page|all (?:the )?results|each page|all of them)\b",
                        re.IGNORECASE)


def words(text: str) -> set[str]:
    """Content words (lower case, crude plural folding, stop words out)."""
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def stem(word: str) -> str:
    """A crude stem: plural folded, then the first six letters (multiplies ~ multiply)."""
    w = word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
    return w[:6]


@dataclass
class Example:
    """A documented call: the tool, what the line says it does, its arguments."""

    tool: str
    desc: str
    args: str


@dataclass
class ToolDoc:
    name: str
    text: str
    examples: list[Example] = field(default_factory=list)


@dataclass
class Call:
    tool: str
    args: str
    observation: str = ""

    @property
    def error(self) -> bool:
        return bool(_ERROR.match(self.observation))


@dataclass
class ToolRequest:
    """What a tool-use request shows."""

    tools: dict[str, ToolDoc]
    question: str
    steps: list[str]
    calls: list[Call]


def read_tools(text: str) -> dict[str, ToolDoc]:
    """The documented tools: names from usage and example lines, each with its block of text."""
    examples = [Example(m["tool"], m["desc"], m["args"].strip()) for m in _EXAMPLE_LINE.finditer(text)]
    # a usage line names its input with words ("calc[expression]: ..."), not data ("row[0]: 3")
    names = {e.tool for e in examples} | {m.group(1) for m in _USAGE.finditer(text)
                                          if re.search(r"[A-Za-z<]", m.group(2))}
    if not names:
        return {}
    lines = text.splitlines()
    owner: str | None = None
    blocks: dict[str, list[str]] = {n: [] for n in names}
    for line in lines:
        # a tool's block ends at a blank line, the question or a step of it, or a call
        if not line.strip() or _CALL.match(line) or _OBS.match(line) or _STEP.match(line) \
                or _QUESTION.match("\n" + line):
            owner = None
            continue
        head = _USAGE.match(line) or _LISTED.match(line)
        if head and head.group(1) in names:
            owner = head.group(1)
        else:
            mentioned = [n for n in names if re.search(rf"\b{re.escape(n)}\[", line)]
            if mentioned:
                owner = mentioned[0]
        if owner:
            blocks[owner].append(line)
    docs = {n: ToolDoc(n, "\n".join(blocks[n])) for n in sorted(names)}
    for e in examples:
        docs[e.tool].examples.append(e)
    return docs


def read_request(text: str, user: str | None = None) -> ToolRequest | None:
    """The tools, question, question steps and calls of a request; None when it shows no tools
    or no question. Without a question label, the question is the start of ``user`` (the
    user message) up to the first step shown."""
    tools = read_tools(text)
    if not tools:
        return None
    q = _QUESTION.search(text)
    if q is None:
        if not user or not user.strip():
            return None
        text = "Question: " + user
        q = _QUESTION.search(text)
        assert q is not None
    rest = text[q.end():]
    end = _QUESTION_END.search(rest)
    question = rest[: end.start()].strip() if end else rest.strip()
    if not question:
        return None
    steps = [m.group(2).strip() for m in _STEP.finditer(question)]
    if not steps:
        steps = [s.strip() for s in re.split(r"(?<=[.?!])\s+|;\s*|\bthen\b", question) if s.strip()]
    history = text[q.end() + (end.start() if end else len(rest)):]
    calls: list[Call] = []
    marks = sorted([(m.start(), "call", m) for m in _CALL.finditer(history)]
                   + [(m.start(), "obs", m) for m in _OBS.finditer(history)], key=lambda t: t[0])
    for _, kind, m in marks:
        if kind == "call":
            calls.append(Call(m.group(1), m.group(2).strip()))
        elif calls and not calls[-1].observation:
            calls[-1].observation = m.group(1).strip()
    return ToolRequest(tools, question, steps, calls)


# -- progress -----------------------------------------------------------------------------
def continuation(observation: str) -> tuple[str, str] | None:
    """(key, value) of a 'more to come' marker in a JSON observation (next_cursor, next_page, ...)."""
    try:
        data = json.loads(observation)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        if re.search(r"next|cursor|continu|more", key, re.IGNORECASE) and value not in (None, "", False):
            return key, str(value)
    return None


def step_tools(req: ToolRequest, step: str) -> set[str]:
    """The tools whose documented examples fit ``step`` best (the ones that can do it)."""
    rarity = _rarity(req.tools)
    fit = {name: max((_score(step, ex, doc, "", rarity) for ex in doc.examples), default=0.0)
           for name, doc in req.tools.items()}
    top = max(fit.values(), default=0.0)
    return {name for name, f in fit.items() if f >= top - 1e-9 and top > 0}


def progress(req: ToolRequest) -> tuple[int, tuple[str, str] | None]:
    """(index of the current question step, pending continuation of the last call).

    A successful call completes the current step when its tool is one that fits the step;
    a call to another tool (a slip) leaves the step to do."""
    idx, pending = 0, None
    for call in req.calls:
        if call.error or not call.observation:
            continue
        step = req.steps[min(idx, len(req.steps) - 1)] if req.steps else ""
        if idx < len(req.steps) and not pending and call.tool not in step_tools(req, step):
            continue
        more = continuation(call.observation)
        if more and _ALL_PAGES.search(step):
            pending = more
            continue
        pending = None
        idx += 1
    return idx, pending


def remaining(req: ToolRequest) -> int:
    """Tool calls still needed, as the request shows them (steps left, one more page)."""
    idx, pending = progress(req)
    left = max(0, len(req.steps) - idx) + (1 if pending else 0)
    if left and idx < len(req.steps) and _counting_step(req, req.steps[idx]):
        left -= 1  # counting what was listed needs no call
    return left


# -- choosing a call ------------------------------------------------------------------------
def _desc_words(desc: str) -> set[str]:
    return words(_NEGATION.sub(" ", desc))


def _score(step: str, ex: Example, doc: ToolDoc, args: str, rarity: dict[str, float]) -> float:
    """How well a documented example fits a step: the step's words in the example's
    description (rarer words among all descriptions weigh more), in its tool's docs, and
    in the arguments it would be called with."""
    sw = words(step)
    return (sum(rarity.get(w, 1.0) for w in sw & _desc_words(ex.desc)) + 0.3 * len(sw & words(doc.text))
            + 0.5 * len(sw & words(args)) + (0.5 if stem(ex.tool.lower()) in sw else 0.0))


def _rarity(tools: dict[str, ToolDoc]) -> dict[str, float]:
    """1 / (number of example descriptions that use a word)."""
    counts: dict[str, int] = {}
    for doc in tools.values():
        for ex in doc.examples:
            for w in _desc_words(ex.desc):
                counts[w] = counts.get(w, 0) + 1
    return {w: 1.0 / n for w, n in counts.items()}


def _counting_step(req: ToolRequest, step: str) -> bool:
    return bool(_COUNT.search(step)) and bool(_listed_items(req, step))


def _listed_items(req: ToolRequest, step: str) -> list[str]:
    """Items of JSON list fields in the observations whose key the step names."""
    sw, out = words(step), []
    for call in req.calls:
        try:
            data = json.loads(call.observation)
        except (ValueError, TypeError):
            continue
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, list) and words(key) & sw:
                    out.extend(str(v) for v in value)
    return out


def _main_value(observation: str) -> str:
    d = _DATE.search(observation)
    if d:
        return d.group(0)
    n = _NUMBER.search(observation)
    if n:
        return n.group(0)
    return observation.strip().split()[0] if observation.strip() else ""


def _values(step: str, previous: str) -> tuple[list[str], list[str], list[str]]:
    """(dates, numbers, path-like tokens) of a step, in order; "the previous result" counts as
    the last observation's main value at its place."""
    text = _PREVIOUS.sub(f" {previous} ", step) if previous else step
    dates = [m.group(0) for m in _DATE.finditer(text)]
    bare = _DATE.sub(" ", text)
    numbers = _NUMBER.findall(bare)
    paths = [t.rstrip(".,;:)") for t in bare.split() if _PATHLIKE.match(t.rstrip(".,;:)"))
             and "/" in t and not _NUMBER.fullmatch(t.rstrip(".,;:)"))]
    return dates, numbers, paths


def _as_format(date: str, like: str) -> str:
    """``date`` written in the format of the example ``like`` (ISO or D/M/Y)."""
    m = _DATE.fullmatch(date)
    if not m:
        return date
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(5), m.group(4))
    if "/" in like:
        return f"{int(d):02d}/{int(mo):02d}/{y}"
    return f"{y}-{int(mo):02d}-{int(d):02d}"


def _operators(desc: str, step: str) -> str | None:
    """The operator a description names in backticks that fits the step (by parallel verbs)."""
    ops = _BACKTICKS.findall(desc)
    if not ops:
        return None
    if len(ops) == 1:
        return ops[0]
    tail = desc.split("`")[-1]
    verbs = [w.strip() for w in re.split(r",|\band\b|\bor\b", tail.split(".")[0]) if w.strip()]
    verbs = [v.split()[0].lower() for v in verbs if v.split()]
    if len(verbs) == len(ops):
        sw = words(step)
        for op, verb in zip(ops, verbs):
            if words(verb) & sw or any(w.startswith(verb[:5]) for w in sw):
                return op
    return None


def fill(ex: Example, doc: ToolDoc, step: str, previous: str, *, as_documented: bool = True
         ) -> tuple[str, int]:
    """The example's arguments rewritten with the step's values, slot by slot by shape (dates
    in the example's format when ``as_documented``, else as the step writes them), and how
    many of its values were left as the example had them (no value of that shape in the step)."""
    dates, numbers, paths = _values(step, previous)
    op = _operators(ex.desc, step)
    if op is not None and len(numbers) >= 2:
        sep = " " if op.isalpha() else ""
        return f"{numbers[0]}{sep}{op}{sep}{numbers[1]}", 0
    sw = {stem(w) for w in _WORD.findall(step.lower())}
    vocab = set(_WORD.findall(doc.text.lower()))
    desc = {stem(w) for w in _WORD.findall(ex.desc.lower())}
    in_args = {stem(w) for w in _WORD.findall(ex.args.lower())}
    fresh = [w for w in _WORD.findall(step.lower()) if w in vocab and stem(w) not in desc
             and w not in _STOP and stem(w) not in in_args]
    out, unfilled = [], 0
    for tok in ex.args.split():
        core = tok
        if _DATE.fullmatch(core):
            if not dates:
                out.append(core)
                unfilled += 1
            else:
                out.append(_as_format(dates.pop(0), core) if as_documented else dates.pop(0))
        elif _NUMBER.fullmatch(core):
            unfilled += 0 if numbers else 1
            out.append(numbers.pop(0) if numbers else core)
        elif "/" in core and _PATHLIKE.match(core):
            unfilled += 0 if paths else 1
            out.append(paths.pop(0) if paths else core)
        elif "=" in core:
            unfilled += 1  # a parameter of the example's own call (a cursor): not for this step
        elif core.isalpha() and stem(core.lower()) not in sw and core.lower() in vocab and fresh \
                and stem(core.lower()) not in desc:
            out.append(fresh.pop(0))
        else:
            out.append(core)
    return " ".join(out), unfilled


def _with_param(args: str, key: str, value: str) -> str:
    kept = [t for t in args.split() if "=" not in t]
    return " ".join(kept + [f"{key}={value}"])


def candidates(req: ToolRequest) -> list[tuple[float, str, str]]:
    """Possible next calls (score, tool, args), best first; failed calls left out."""
    idx, pending = progress(req)
    if idx >= len(req.steps):
        return []
    step = req.steps[idx]
    last_ok = next((c for c in reversed(req.calls) if not c.error and c.observation), None)
    previous = _main_value(last_ok.observation) if last_ok else ""
    failed = {(c.tool, " ".join(c.args.split())) for c in req.calls if c.error}
    found: list[tuple[float, str, str]] = []
    if pending and last_ok is not None:
        doc = req.tools.get(last_ok.tool)
        if doc is not None:
            key, value = pending
            documented = [m for m in _PARAM.finditer(doc.text)]
            names = [m.group(1) for m in documented] + [re.sub(r"^next_?", "", key), key]
            for rank, name in enumerate(dict.fromkeys(n for n in names if n)):
                val = value
                if documented and name == documented[0].group(1) and not documented[0].group(2).startswith("<"):
                    val = documented[0].group(2)  # the doc's own literal (page=2)
                found.append((10.0 - rank, last_ok.tool, _with_param(last_ok.args, name, val)))
    else:
        rarity = _rarity(req.tools)
        for doc in req.tools.values():
            for ex in doc.examples:
                args, unfilled = fill(ex, doc, step, previous)
                found.append((_score(step, ex, doc, args, rarity) - unfilled, doc.name, args))
                # the step's own date format: the reading tried once the documented one fails
                args, unfilled = fill(ex, doc, step, previous, as_documented=False)
                found.append((_score(step, ex, doc, args, rarity) - unfilled - 0.25, doc.name, args))
    best: dict[tuple[str, str], float] = {}
    for s, tool, args in found:
        k = (tool, " ".join(args.split()))
        if k in failed:
            continue
        best[k] = max(best.get(k, -1e9), s)
    return sorted(((s, t, a) for (t, a), s in best.items()), key=lambda x: (-x[0], x[1], x[2]))


def decision(req: ToolRequest) -> tuple[str | None, frozenset[tuple[str, str]]]:
    """What the request calls for before any noise: (final answer, {}) when the steps shown
    answer the question, else (None, the best-fitting calls, ties included)."""
    idx, pending = progress(req)
    last_ok = next((c for c in reversed(req.calls) if not c.error and c.observation), None)
    if idx < len(req.steps) and not pending and _counting_step(req, req.steps[idx]):
        return str(len(_listed_items(req, req.steps[idx]))), frozenset()
    cands = candidates(req)
    if idx >= len(req.steps) or not cands:
        return (last_ok.observation if last_ok else "I do not know"), frozenset()
    return None, frozenset((t, " ".join(a.split())) for s, t, a in cands if s >= cands[0][0] - 1e-9)


def next_action(req: ToolRequest, rng: random.Random, *, slip: float = 0.15,
                rush: float = 0.04) -> tuple[str, str] | tuple[None, str]:
    """(tool, args) of the next call, or (None, final answer): the `decision`, with seeded
    noise (a random one of tied calls; a lesser reading with probability ``slip``; an
    early answer with probability ``rush``)."""
    final, _ = decision(req)
    if final is not None:
        return None, final
    last_ok = next((c for c in reversed(req.calls) if not c.error and c.observation), None)
    if last_ok is not None and rng.random() < rush:
        return None, last_ok.observation
    cands = candidates(req)
    top = cands[0][0]
    tied = [c for c in cands if c[0] >= top - 1e-9]
    pick = rng.choice(tied)
    if len(cands) > len(tied) and rng.random() < slip:
        pick = rng.choice(cands[len(tied):len(tied) + 3])
    return pick[1], pick[2]
