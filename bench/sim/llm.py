"""`SimLLM`: the simulated chat model. Reads messages, picks a role, answers by rules.

Reading is done once per request by `_analyse` (the structured reader in `reader.py`
cuts the conversation into fields and pairs each task item with its output and
feedback); `diagnose(messages)` exposes what was read and concluded, without drawing
anything random, so that tests can compare two requests carrying the same information.

Determinism: every random draw comes from one `random.Random` seeded by a SHA-256 of
the messages, the seed, the temperature and (at temperature > 0) the sample index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from undertow.bench.sim import diagnose as dg
from undertow.bench.sim import numeric as num
from undertow.bench.sim.answer import answer
from undertow.bench.sim.codefix import choose_fix, code_reasoning
from undertow.bench.sim.curate import curate, is_curate_request, strip_insights
from undertow.bench.sim.judge import judge, wants_judgement
from undertow.bench.sim.profile import TaskProfile, load_profiles, unique_profiles
from undertow.bench.sim.reader import Field, read_blocks
from undertow.bench.sim.render import render_critique, render_proposal
from undertow.bench.sim.roles import RoleRequest, claiming_role
from undertow.bench.sim.request import (
    Block,
    Format,
    Variable,
    classify,
    parse_blocks,
    parse_format,
    parse_variables,
    schema_format,
    split_history,
    strip_shown,
)
from undertow.bench.sim.stats import SimStats
from undertow.bench.sim.tokens import count_message_tokens, count_tokens, truncate
from undertow.bench.sim.view import ItemView, RequestDiagnosis

NO_TASK_REPLY = "I am not sure what is being asked. Could you state the question?"
log = logging.getLogger(__name__)
_WARNED: set[str] = set()


def _warn_no_task(text: str) -> None:
    """Say once per process why a question got `NO_TASK_REPLY`: a first try of the sim
    with a question of one's own should not look like a model that cannot read."""
    if "no_task" in _WARNED:
        return
    _WARNED.add("no_task")
    head = " ".join(text.split())[:80]
    log.warning("llm=sim found no item of a bundled task in the request %r and replied %r. The "
                "simulated LLM answers the items of the tasks it has profiles for (undertow bench "
                "list), and proposes, critiques and judges; it does not answer free-form questions "
                "(docs/sim.md, Roles and Limits). Use a real provider for those.", head, NO_TASK_REPLY)
#: The temperature used when a caller gives none (in process and over HTTP alike).
DEFAULT_TEMPERATURE = 0.0


class SimReply(BaseModel):
    """One reply of the simulator, with approximate token counts (its cost is always 0)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


def _as_pairs(messages: Any) -> list[tuple[str, str]]:
    """(role, content) pairs from OpenAI-style dicts; tolerant of odd shapes."""
    pairs = []
    for m in messages if isinstance(messages, (list, tuple)) else [messages]:
        if isinstance(m, dict):
            role, content = m.get("role", "user"), m.get("content", "")
        else:
            role, content = "user", m
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            content = "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p)
                                for p in content)
        pairs.append((str(role), "" if content is None else str(content)))
    return pairs


_DSPY_INSTRUCTION = re.compile(r"^\[\[ ## ([\w.\-]*(?:instruction|prompt)[\w.\-]*) ## \]\][ \t]*\n"
                               r"(.*?)(?=^\[\[ ## |\Z)", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_SHORT = " (...) "
_NEW_FIELD = ("instruction", "prompt", "improved", "new", "revised", "proposed", "rewritten")


@dataclass
class Analysis:
    """Everything read off one request (no random draw)."""

    role: str
    text: str
    history: list[str]
    variables: list[Variable]
    fmt: Format
    blocks: list[Block]
    fields: list[Field] = field(default_factory=list)
    target: Variable | None = None
    special: Any = None                   # a specialist role (bench/sim/roles) and its request


def _expand_short(value: str, text: str) -> str:
    """A value shown abbreviated as `head (...) tail`, restored from a full copy shown
    elsewhere in the request (the shortest span with that head and tail)."""
    if _SHORT not in value:
        return value
    head, tail = value.split(_SHORT, 1)
    if not head.strip() or not tail.strip():
        return value
    m = re.search(re.escape(head.strip()) + r"(.*?)" + re.escape(tail.strip()), text, re.DOTALL)
    return m.group(0) if m else value


_TRAILER = re.compile(r"\n\s*\n(?:respond|reply|return|write|answer|output)\b[^\n]*"
                      r"(?:field|format|marker|json|tag)[^\n]*\s*\Z", re.IGNORECASE)
_ATTEMPT = re.compile(r"(?:instruction|prompt|text|solution|candidate)\s*#?\s*(\d+)\s*:\s*(.*?)"
                      r"(?=\s*(?:»|\[\d+\]|(?:instruction|prompt|text|solution|candidate|prefix|"
                      r"resulting score|score)\s*#?\s*\d+\s*:|\Z))", re.IGNORECASE | re.DOTALL)
_ATTEMPT_SCORE = re.compile(r"score\s*#?\s*(\d+)\s*:\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _cut_trailer(value: str) -> str:
    """A value without a closing paragraph that tells the responder how to reply."""
    return _TRAILER.sub("", value).strip()


def _best_attempt(value: str) -> str:
    """A list of scored attempts ("Instruction #2: ... Score #2: 50") -> the best one."""
    attempts = {int(n): body.strip().strip("«»").strip() for n, body in _ATTEMPT.findall(value)}
    scores = {int(n): float(x) for n, x in _ATTEMPT_SCORE.findall(value)}
    scored = [(scores[n], n) for n in attempts if n in scores and attempts[n]]
    if len(attempts) < 1 or not scored:
        return value
    return _cut_trailer(attempts[max(scored)[1]])


class SimLLM:
    """A rule-based chat model that answers task items, proposes prompts, critiques and judges.

    `profiles=None` loads every profile registered under the entry-point group
    `undertow.sim_profiles`. The reply depends only on the messages (and a requested
    `response_format`), the seed, the temperature and the sample index (docs/sim.md).
    `stats` counts the roles it played and how often it answered from evidence.
    """

    def __init__(self, profiles: Sequence[TaskProfile] | None = None, *, seed: int = 0) -> None:
        self.profiles = unique_profiles(load_profiles() if profiles is None else profiles)
        self.seed = seed
        self.stats = SimStats()

    def complete(self, messages: list[dict[str, str]], *, model: str = "sim",
                 temperature: float | None = None, seed: int | None = None,
                 sample_index: int = 0, max_tokens: int | None = None,
                 response_format: dict[str, Any] | None = None) -> SimReply:
        """Reply to `messages` (OpenAI-style dicts). `max_tokens` cuts the reply
        (finish_reason "length"); `response_format` (OpenAI style) sets the reply's keys."""
        pairs = _as_pairs(messages)
        temperature = DEFAULT_TEMPERATURE if temperature is None else float(temperature)
        rng = random.Random(self._key(pairs, self.seed if seed is None else seed,
                                      temperature, sample_index, response_format))
        text = self._reply(pairs, rng, temperature, response_format)
        finish = "stop"
        if max_tokens is not None:
            text, cut = truncate(text, max(0, int(max_tokens)))
            finish = "length" if cut else "stop"
        return SimReply(text=text, prompt_tokens=count_message_tokens(pairs),
                        completion_tokens=count_tokens(text), finish_reason=finish)

    @staticmethod
    def _key(pairs: list[tuple[str, str]], seed: int, temperature: float,
             sample_index: int, response_format: Any = None) -> int:
        hot = (temperature or 0.0) > 0
        parts: list[Any] = [pairs, seed, round(float(temperature or 0.0), 6),
                            sample_index if hot else 0]
        if response_format is not None:
            parts.append(response_format)
        blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
        return int.from_bytes(hashlib.sha256(blob.encode("utf-8", "surrogatepass")).digest()[:8],
                              "big")

    # -- reading -------------------------------------------------------------------------
    def _analyse(self, pairs: list[tuple[str, str]], response_format: Any = None) -> Analysis:
        text, history = split_history("\n".join(c for _, c in pairs))
        variables = parse_variables(text)
        if not variables:  # DSPy-style instruction fields in the data messages
            for role, content in pairs:
                if role == "system":
                    continue
                for m in _DSPY_INSTRUCTION.finditer(content):
                    variables.append(Variable(m.group(1), "text", m.group(2).strip()))
        for v in variables:
            v.value = _best_attempt(_cut_trailer(_expand_short(v.value, text)))
        instructions = strip_shown(strip_insights(text))
        fmt = schema_format(response_format) or parse_format(instructions)
        request = RoleRequest(pairs, text, instructions, fmt, response_format, tuple(self.profiles))
        special = claiming_role(request)
        if special is not None:
            return Analysis(special.name, text, history, variables, fmt, [],
                            special=(special, request))
        if is_curate_request(instructions, fmt):
            return Analysis("curate", text, history, variables, fmt, [])
        if not variables and classify(instructions, False) == "answer" and \
                not wants_judgement(instructions):
            # nothing asks for a new value, a critique or a judgement: a plain answer
            return Analysis("answer", text, history, variables, fmt, [])
        blocks, fields = read_blocks([(r, split_history(c)[0]) for r, c in pairs], self.profiles)
        if not any(b.fields for b in blocks):
            blocks = parse_blocks(text)
        asked = _asked_text(instructions, fields, fmt)
        role = classify(asked, bool(variables))
        if role == "answer" and wants_judgement(asked, fields, text):
            role = "judge"
        target = dg.choose_target(variables)
        return Analysis(role, text, history, variables, fmt, blocks, fields, target)

    def diagnose(self, messages: Any, response_format: dict[str, Any] | None = None
                 ) -> RequestDiagnosis:
        """What the sim reads in `messages` and what it means to do, without random draws
        and without counting in `stats`: role, variables, items with their outputs,
        expected answers and feedback, whether evidence points at a skill, and which."""
        pairs = _as_pairs(messages)
        a = self._analyse(pairs, response_format)
        items = []
        for b in a.blocks:
            item = b.fields.get("input")
            from undertow.bench.sim.items import last_item

            found = last_item(item, self.profiles) if item else None
            out = b.fields.get("output")
            items.append(ItemView(
                item=found[1].text if found else None, profile=found[0].name if found else None,
                output=out, answer=found[0].parse_answer(out) if found and out else None,
                expected=b.fields.get("expected"), feedback=b.fields.get("feedback")))
        view = RequestDiagnosis(role=a.role, variables=[(v.name, v.kind) for v in a.variables],
                                target=a.target.name if a.target else None, items=items,
                                reply_format=a.fmt.kind, reply_keys=list(a.fmt.keys))
        if a.role in ("optimize", "critique"):
            prompt = dg.strip_for_prompt(a.target.value if a.target else a.text, self.profiles)
            diag = dg.diagnose(a.text, a.blocks, prompt, self.profiles, None)
            view.evidence = not diag.guessed or self._numeric_evidence(a)
            view.skills = [f"{p.name}.{s.name}" for p, s in diag.intended]
        elif a.role == "judge":
            view.evidence = judge(a.fields, a.fmt, self.profiles, None, a.text)[1]
        return view

    def _numeric_evidence(self, a: Analysis) -> bool:
        numbers = num.numeric_variables(a.variables, a.text)
        if numbers and num.feedback_direction(a.blocks) != 0:
            return True
        codes = [v for v in a.variables if v.kind == "code"]
        return any(f.named_in(num_code_evidence(a.blocks))
                   for v in codes for p in self.profiles for f in p.code_fixes(v.value, a.text))

    # -- replying ------------------------------------------------------------------------
    def _reply(self, pairs: list[tuple[str, str]], rng: random.Random, temperature: float,
               response_format: Any = None) -> str:
        a = self._analyse(pairs, response_format)
        text, history, variables, fmt, blocks = a.text, a.history, a.variables, a.fmt, a.blocks
        if a.special is not None:
            role, request = a.special
            reply, evidence = role.reply(request, rng)
            self.stats.record(a.role, evidence)
            return reply
        if a.role == "curate":
            obj = curate(text, variables, fmt, self.profiles, rng)
            self.stats.record("curate", bool(obj.get("operations")))
            return json.dumps(obj, indent=1)
        if a.role == "answer":
            self.stats.record("answer", None)
            got = answer(pairs, self.profiles, rng, temperature, fmt)
            if got is None:
                _warn_no_task(text)
            return got or NO_TASK_REPLY
        if a.role == "judge":
            reply, evidence = judge(a.fields, fmt, self.profiles, rng, text)
            self.stats.record("judge", evidence)
            return reply
        target = a.target
        numbers = num.numeric_variables(variables, text)
        codes = [v for v in variables if v.kind == "code"]
        if a.role == "optimize" and target is None and (numbers or codes):
            self.stats.record("optimize", self._numeric_evidence(a))
            return self._numeric_and_code(text, history, variables, numbers, codes, blocks, fmt,
                                          rng, "")
        prompt = dg.strip_for_prompt(target.value if target else text, self.profiles)
        diag = dg.diagnose(text, blocks, prompt, self.profiles, rng)
        self.stats.record(a.role, not diag.guessed or self._numeric_evidence(a))
        if a.role == "critique":
            return render_critique(fmt, dg.critique(diag))
        if target is not None:
            why = dg.reasoning(diag)
            revised = dg.revise(target.value, diag)
            return self._numeric_and_code(text, history, variables, numbers, codes, blocks, fmt,
                                          rng, why, {target.name: revised}, target.name)
        return render_proposal(fmt, variables, {}, None, dg.reasoning(diag))

    def _numeric_and_code(self, text: str, history: list[str], variables: list[Variable],
                          numbers: list[num.NumericVar], codes: list[Variable], blocks: list[Block],
                          fmt: Format, rng: random.Random, why: str,
                          new_values: dict[str, object] | None = None,
                          target: str | None = None) -> str:
        """Proposals for numeric and code variables, added to a text proposal if any."""
        new_values = dict(new_values or {})
        notes = [why] if why else []
        if numbers:
            past = num.parse_history(history, [x.name for x in numbers])
            plan = num.propose(numbers, blocks, text, past, rng, self.profiles)
            new_values.update(plan.values)
            notes += plan.notes
        for v in codes:
            choice = choose_fix(v.value, text, blocks, self.profiles, rng)
            if choice is not None:
                new_values[v.name] = choice.fix.new_code
                notes.append(code_reasoning(v.name, choice))
        if target is None:
            changed = [v.name for v in variables if v.name in new_values]
            target = changed[0] if changed else (variables[0].name if variables else None)
        return render_proposal(fmt, variables, new_values, target,
                               " ".join(notes) or "Nothing shown calls for a change.")


def num_code_evidence(blocks: Sequence[Block]) -> str:
    """The text a code diagnosis may read (shown feedback and outputs)."""
    from undertow.bench.sim.codefix import code_evidence

    return code_evidence(blocks)


def _asked_text(instructions: str, fields: Sequence[Field], fmt: Format) -> str:
    """What the request asks, without the data it shows: the instructions with every data
    field's value removed, plus the names of the output fields it defines."""
    asked = instructions
    for f in sorted(fields, key=lambda f: -len(f.value)):
        if f.kind != "other" and len(f.value) > 3:
            asked = asked.replace(f.value, " ")
    if fmt.kind == "fields":
        names = [k.replace("_", " ") for k in fmt.keys]
        if any(any(w in n for w in _NEW_FIELD) and ("instruction" in n or "prompt" in n)
               for n in names):
            asked += "\nPropose a new instruction."
    return asked
