"""Sim role: a ReAct agent that uses tools as their documentation says (Thought/Action/Final Answer).

It reads, from the request alone: the tool documentation (example calls
`tool[input] -> result` and the words around them), the task (numbered steps, or one
question), and the actions and observations so far. For each step it picks the
documented example whose description and call best match the step's words, fills the
example's slots (numbers, dates in the doc's format, paths, unit words) with the
step's values, and calls it. It trusts the docs: a wrong doc leads it to a wrong
call. It follows pagination the way the doc says, counts listed items itself, and
gives up a step when a call fails. Now and then (seeded) it picks a worse match.
"""

from __future__ import annotations

import json
import random
import re

from undertow.bench.sim.request import parse_variables
from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._toolcalls import (
    EXAMPLE,
    ISO,
    NUMBER,
    PARAM,
    SLASHED,
    Example,
    content_words,
    date_format,
    examples,
    from_iso,
    is_error,
    to_iso,
)

_ACTION = re.compile(r"^\s*Action\s*:\s*([A-Za-z_][\w-]*)\s*\[(.*)\]\s*$", re.MULTILINE)
_OBS = re.compile(r"^\s*Observation\s*:\s*(.*)$", re.MULTILINE)
_STEP = re.compile(r"^\s*(?:[A-Za-z]+\s*:\s*)?(?:step\s*)?(\d{1,2})\s*[.):]\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_PREV = re.compile(r"\b(?:the |that )?(?:previous|last|prior|preceding) (?:result|answer|value|output)\b"
                   r"|\bthat (?:result|number|date|value)\b", re.IGNORECASE)
_COUNT = re.compile(r"\b(count|how many|number of)\b", re.IGNORECASE)
_PATH = re.compile(r"\b[A-Za-z][\w-]*/(?:[\w-]+)?")
_TOKEN = re.compile(r"(\d{4}-\d{2}-\d{2}|\d{2}[/.]\d{2}[/.]\d{4})|([A-Za-z][\w-]*/[\w-]*)|(-?\d+(?:\.\d+)?)"
                    r"|([A-Za-z_]\w*=\S*)|([A-Za-z_]+)|(\S)|(\s+)")
_LIST = re.compile(r"\b[A-Za-z_]+(?:,\s*[A-Za-z_]+){2,}")
MISTAKE_RATE = 0.05
_IMPROVE = re.compile(r"\b(improv\w*|optimi[sz]\w*|suggest\w*|critique|feedback|revise|rewrite)\b"
                      r".{0,60}\b(variables?|parameters?|prompts?|program|docs?|documentation)\b", re.IGNORECASE | re.DOTALL)


def _vocabulary(doc: str) -> set[str]:
    """Words the docs enumerate (`m, km, ft, mi`): the values a slot may take."""
    return {w.strip() for m in _LIST.finditer(doc) for w in m.group(0).split(",")}


def _values(step: str, vocab: set[str]) -> dict[str, list[str]]:
    """The values a step carries, by kind, in order."""
    dates = [m.group(0) for m in ISO.finditer(to_iso(step))]
    rest = ISO.sub(" ", to_iso(step))
    paths = _PATH.findall(rest)
    rest = _PATH.sub(" ", rest)
    return {"date": dates, "path": paths, "num": NUMBER.findall(rest),
            "word": [w for w in re.findall(r"[A-Za-z_]+", rest) if w in vocab]}


def _fill(template: str, values: dict[str, list[str]], fmt: str, vocab: set[str]) -> tuple[str, bool] | None:
    """The template's slots filled with the step's values; None if a slot stays empty.
    The flag says whether every value of the step was used."""
    used = {k: 0 for k in values}
    out = []
    for m in _TOKEN.finditer(template):
        date, path, num, param, word = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        kind = "date" if date else "path" if path else "num" if num else \
            "word" if word and word in vocab else ""
        if param:
            continue  # parameters of a documented call belong to that call, not to a new one
        if not kind:
            out.append(m.group(0))
            continue
        pool = values[kind]
        if used[kind] >= len(pool):
            return None
        value = pool[used[kind]]
        used[kind] += 1
        if kind == "date" and SLASHED.search(date):
            value = from_iso(value, fmt or "DD/MM/YYYY")
        out.append(value)
    complete = all(used[k] >= len(v) for k, v in values.items())
    return re.sub(r"\s+", " ", "".join(out)).strip(), complete


def _words(e: Example, vocab: set[str]) -> set[str]:
    """What an example line says in words (slot values such as units are not words of it)."""
    described = EXAMPLE.sub(" ", e.line)
    slots = {w.lower() for w in vocab}
    return content_words(described) | (content_words(e.args) - slots) | content_words(e.result) | {e.tool.lower()}


def _score(step: str, e: Example, vocab: set[str], weight: dict[str, float]) -> tuple[float, float]:
    """(word match weighted by rarity among the examples, penalty)."""
    match = sum(weight.get(w, 0.0) for w in content_words(step) & _words(e, vocab))
    step_words = set(re.findall(r"[A-Za-z_]+", step))
    arg_words = set(re.findall(r"[A-Za-z_]+", e.args))
    shown_units = [w for w in re.findall(r"[A-Za-z_]+", e.result) if w in vocab and w not in arg_words]
    # the example's output is in a unit the step did not ask for (and that no slot sets)
    penalty = 0.5 if any(u not in step_words for u in shown_units) else 0.0
    return match, penalty


def _result_value(obs: str) -> str:
    m = ISO.search(obs) or SLASHED.search(obs) or NUMBER.search(obs)
    if m:
        return m.group(0)
    words = re.findall(r"[A-Za-z]+", obs)
    return words[0] if words else obs.strip()


class Policy:
    """Replays the agent over the history and says what it does next."""

    def __init__(self, docs: str, steps: list[str], rng: random.Random) -> None:
        self.docs = docs
        self.fmt = date_format(docs)
        self.vocab = _vocabulary(docs)
        self.examples = [e for e in examples(docs)]
        self.steps = steps
        self.rng = rng
        self.prev = ""   # the last result the replay reached

    def _continuation(self, args: str, obs: str, pages: int) -> str | None:
        try:
            data = json.loads(obs)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        nxt = [(k, v) for k, v in data.items() if re.search(r"next|cursor|token|continu", k, re.IGNORECASE)
               and v not in (None, "", False)]
        if not nxt:
            return None
        key, value = nxt[0]
        params = dict(PARAM.findall(self.docs))
        base = PARAM.sub("", args).strip()
        for name in params:
            if name.lower() in key.lower():
                return f"{base} {name}={value}"
        for name, example in params.items():
            if re.fullmatch(r"\d+\W*", example):
                return f"{base} {name}={pages + 1}"
        return None

    def _choose(self, step: str) -> tuple[str, str] | None:
        values = _values(step, self.vocab)
        df: dict[str, int] = {}
        for e in self.examples:
            for w in _words(e, self.vocab):
                df[w] = df.get(w, 0) + 1
        weight = {w: 1.0 / n for w, n in df.items()}
        scored = []
        for e in self.examples:
            filled = _fill(e.args, values, self.fmt, self.vocab)
            if filled is None:
                continue
            call, complete = filled
            match, penalty = _score(step, e, self.vocab, weight)
            if match > 0:
                scored.append((round(match + (0.5 if complete else 0.0) - penalty, 6), e.tool, call))
        if not scored:
            return None
        best = max(s for s, _, _ in scored)
        top = [(t, c) for s, t, c in scored if s == best]
        if self.rng.random() < MISTAKE_RATE:
            top = [(t, c) for s, t, c in scored if s >= best - 0.5]
        return self.rng.choice(sorted(set(top)))

    def next(self, history: list[tuple[str, str, str]]) -> str:
        i, prev, items, h = 0, "", [], 0
        while i < len(self.steps):
            self.prev = prev
            step = _PREV.sub(prev, self.steps[i]) if prev else self.steps[i]
            if _COUNT.search(step) and items:
                prev, items, i = str(len(items)), [], i + 1
                continue
            if h < len(history):
                tool, args, obs = history[h]
                h += 1
                if is_error(obs):
                    i += 1
                    continue
                try:
                    data = json.loads(obs)
                except ValueError:
                    data = None
                if isinstance(data, dict):
                    items += [x for v in data.values() if isinstance(v, list) for x in v]
                    pages = sum(1 for t, a, _ in history[:h] if t == tool and a.split()[:1] == args.split()[:1])
                    more = self._continuation(args, obs, pages)
                    if more is not None and h == len(history):
                        return f"Thought: there is another page.\nAction: {tool}[{more}]"
                    if more is not None and h < len(history):
                        continue
                    prev = str(len(items))
                else:
                    prev = _result_value(obs)
                    items = []
                i += 1
                continue
            choice = self._choose(step)
            if choice is None:
                i += 1
                continue
            tool, call = choice
            return f"Thought: step {i + 1}: {step.strip()}\nAction: {tool}[{call}]"
        self.prev = prev
        return f"Thought: all steps are done.\nFinal Answer: {prev or 'unknown'}"


def _read(request: RoleRequest) -> tuple[str, str, list[tuple[str, str, str]]]:
    """(docs, task, history of (tool, input, observation)) from the messages."""
    docs, convo = [], []
    for role, content in request.pairs:
        (docs if role == "system" else convo).append(content)
    text = "\n".join(convo)
    first = re.search(r"^\s*(Thought|Action)\s*:", text, re.MULTILINE)
    task = text[: first.start()] if first else text
    rest = text[first.start():] if first else ""
    history = []
    actions = list(_ACTION.finditer(rest))
    for j, m in enumerate(actions):
        end = actions[j + 1].start() if j + 1 < len(actions) else len(rest)
        obs = _OBS.search(rest, m.end(), end)
        if obs:
            history.append((m.group(1), m.group(2).strip(), obs.group(1).strip()))
    doc_text = "\n".join(docs)
    if not examples(doc_text):            # docs may sit in the user message instead
        doc_text = task
    return doc_text, task, history


class ToolAgentRole:
    name = "tool_docs_agent"
    priority = 31

    def claims(self, request: RoleRequest) -> bool:
        text = "\n".join(c for _, c in request.pairs)
        if parse_variables(request.text) or _IMPROVE.search(request.instructions):
            return False   # a request to improve variables that shows an agent's trace, not a turn of it
        if not (re.search(r"\bAction\s*:", text) and re.search(r"\b(Observation|Final Answer)\b", text)
                and EXAMPLE.search(text)):
            return False
        # it follows a task given as numbered steps; a request it cannot cut into steps is
        # left to the roles that read other task layouts (tool_step)
        return _STEP.search(_read(request)[1]) is not None

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        docs, task, history = _read(request)
        steps = [m.group(2).strip() for m in _STEP.finditer(task)] or [task.strip()]
        policy = Policy(docs, steps, rng)
        reply = policy.next(history)
        if "Action:" in reply and re.search(r"step limit reached", request.text, re.IGNORECASE):
            return f"Thought: no more steps.\nFinal Answer: {policy.prev or 'unknown'}", None
        return reply, None


ROLE = ToolAgentRole()
