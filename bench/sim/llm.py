"""`SimLLM`: the simulated chat model. Reads messages, picks a role, answers by rules.

Determinism: every random draw comes from one `random.Random` seeded by a SHA-256 of
the messages, the seed, the temperature and (at temperature > 0) the sample index.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from undertow.bench.sim import diagnose as dg
from undertow.bench.sim import numeric as num
from undertow.bench.sim.answer import answer
from undertow.bench.sim.codefix import choose_fix, code_reasoning
from undertow.bench.sim.curate import curate, is_curate_request, strip_insights
from undertow.bench.sim.profile import TaskProfile, load_profiles, unique_profiles
from undertow.bench.sim.render import render_critique, render_proposal
from undertow.bench.sim.request import (
    Block,
    Format,
    Variable,
    classify,
    parse_blocks,
    parse_format,
    parse_variables,
    split_history,
    strip_shown,
)
from undertow.bench.sim.tokens import count_message_tokens, count_tokens, truncate

NO_TASK_REPLY = "I am not sure what is being asked. Could you state the question?"


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


class SimLLM:
    """A rule-based chat model that answers task items, proposes prompts and critiques.

    `profiles=None` loads every profile registered under the entry-point group
    `undertow.sim_profiles`. The reply depends only on the messages, the seed, the
    temperature and the sample index (see docs/sim.md for the rules).
    """

    def __init__(self, profiles: Sequence[TaskProfile] | None = None, *, seed: int = 0) -> None:
        self.profiles = unique_profiles(load_profiles() if profiles is None else profiles)
        self.seed = seed

    def complete(self, messages: list[dict[str, str]], *, model: str = "sim",
                 temperature: float = 0.0, seed: int | None = None, sample_index: int = 0,
                 max_tokens: int | None = None) -> SimReply:
        """Reply to `messages` (OpenAI-style dicts). `max_tokens` cuts the reply
        (finish_reason "length")."""
        pairs = _as_pairs(messages)
        rng = random.Random(self._key(pairs, self.seed if seed is None else seed,
                                      temperature, sample_index))
        text = self._reply(pairs, rng, float(temperature or 0.0))
        finish = "stop"
        if max_tokens is not None:
            text, cut = truncate(text, max(0, int(max_tokens)))
            finish = "length" if cut else "stop"
        return SimReply(text=text, prompt_tokens=count_message_tokens(pairs),
                        completion_tokens=count_tokens(text), finish_reason=finish)

    @staticmethod
    def _key(pairs: list[tuple[str, str]], seed: int, temperature: float,
             sample_index: int) -> int:
        hot = (temperature or 0.0) > 0
        blob = json.dumps([pairs, seed, round(float(temperature or 0.0), 6),
                           sample_index if hot else 0], ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(blob.encode("utf-8", "surrogatepass")).digest()[:8],
                              "big")

    def _reply(self, pairs: list[tuple[str, str]], rng: random.Random, temperature: float) -> str:
        text, history = split_history("\n".join(c for _, c in pairs))
        variables = parse_variables(text)
        fmt = parse_format(strip_shown(strip_insights(text)))
        if is_curate_request(strip_shown(strip_insights(text)), fmt):
            return json.dumps(curate(text, variables, fmt, self.profiles, rng), indent=1)
        role = classify(strip_shown(text), bool(variables))
        if role == "answer":
            return answer(pairs, self.profiles, rng, temperature) or NO_TASK_REPLY
        blocks = parse_blocks(text)
        target = dg.choose_target(variables)
        numbers = num.numeric_variables(variables, text)
        codes = [v for v in variables if v.kind == "code"]
        if role == "optimize" and target is None and (numbers or codes):
            return self._numeric_and_code(text, history, variables, numbers, codes, blocks, fmt,
                                          rng, "")
        prompt = dg.strip_for_prompt(target.value if target else text, self.profiles)
        diag = dg.diagnose(text, blocks, prompt, self.profiles, rng)
        if role == "critique":
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
            plan = num.propose(numbers, blocks, text, past, rng)
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
