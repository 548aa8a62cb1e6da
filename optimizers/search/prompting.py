"""What the prompt-search optimizers share: running a prompt on items, and the requests
they send to the optimizer LLM.

The requests follow the convention of docs/sim.md (which real models read just as
well): the prompt being edited is a ``<variable name=... kind="text">`` block, failing
items are ``<example>`` blocks with ``<input>``, ``<output>`` and ``<expected>``, and
the reply is asked for as JSON with keys "reasoning" and "suggestion". Replies are
parsed defensively: anything that is not a usable new prompt gives ``None``, never an
exception and never a half-written value.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from undertow.engine.convention import variable_tag
from undertow.engine.llm import LLM
from undertow.engine.llm.structured import StructuredOutputError, extract_json

#: ``score(prediction, target) -> float in [0, 1]``.
ScoreFn = Callable[[str, str], float]


@dataclass(frozen=True)
class Item:
    """One task item: the ``input`` shown to the task model and its ``target`` answer."""

    input: str
    target: str


@dataclass(frozen=True)
class Outcome:
    """What the task model answered on one item, and its score."""

    item: Item
    output: str
    score: float


#: ``await run(prompt, items) -> [Outcome]``: how a candidate prompt answers items.
RunFn = Callable[[str, Sequence["Item"]], Awaitable[list["Outcome"]]]


def as_items(data: Sequence[Any], what: str) -> list[Item]:
    """Items from objects with ``.input``/``.target`` (the bench's Example), pairs or dicts."""
    items = []
    for i, x in enumerate(data):
        if isinstance(x, Item):
            items.append(x)
        elif hasattr(x, "input") and hasattr(x, "target"):
            items.append(Item(str(x.input), str(x.target)))
        elif isinstance(x, dict) and "input" in x and "target" in x:
            items.append(Item(str(x["input"]), str(x["target"])))
        elif isinstance(x, (tuple, list)) and len(x) == 2:
            items.append(Item(str(x[0]), str(x[1])))
        else:
            raise TypeError(f"{what}[{i}] is a {type(x).__name__}; pass objects with "
                            "`.input` and `.target`, (input, target) pairs or dicts with "
                            "those keys")
    if not items:
        raise ValueError(f"{what} is empty; pass at least one item")
    return items


async def run_prompt(llm: LLM, prompt: str, items: Sequence[Item], score: ScoreFn, *,
                     temperature: float = 0.0) -> list[Outcome]:
    """The task model's answers to ``items`` under the system ``prompt``, all concurrently."""
    messages = [[{"role": "system", "content": prompt}, {"role": "user", "content": it.input}]
                for it in items]
    replies = await llm.acomplete_many(messages, purpose="forward", temperature=temperature)
    return [Outcome(it, r.text, float(score(r.text, it.target))) for it, r in zip(items, replies)]


def mean_score(outcomes: Sequence[Outcome]) -> float:
    """The mean score of ``outcomes`` (0.0 for none)."""
    return sum(o.score for o in outcomes) / len(outcomes) if outcomes else 0.0


_OUR_CLOSERS = re.compile(r"</\s*(variable|example|input|output|expected|feedback)\s*>", re.IGNORECASE)


def _esc(text: str) -> str:
    # Items may hold brackets (Dyck words), so nothing is entity-escaped; only our own
    # closing tags are defused, so user data cannot end a block early.
    return _OUR_CLOSERS.sub(lambda m: m.group(0).replace("</", "< /"), text)


def variable_block(name: str, value: str) -> str:
    """The prompt being edited, as a ``<variable>`` block."""
    return variable_tag(name, "text", value, safe=True)


def example_blocks(failures: Sequence[Outcome], feedback: str = "") -> str:
    """Failing items as ``<example>`` blocks (input, output, expected, optional feedback)."""
    parts = []
    for o in failures:
        fb = f"\n<feedback>{_esc(feedback)}</feedback>" if feedback else ""
        parts.append(f"<example>\n<input>{_esc(o.item.input)}</input>\n"
                     f"<output>{_esc(o.output)}</output>\n"
                     f"<expected>{_esc(o.item.target)}</expected>{fb}\n</example>")
    return "\n".join(parts)


def lineage_text(ancestors: Sequence[tuple[str, float]]) -> str:
    """Earlier prompts of this line of edits with their scores, oldest first."""
    if not ancestors:
        return ""
    lines = [f"{i + 1}. (score {s:.2f}) {' '.join(p.split())}" for i, (p, s) in
             enumerate(ancestors)]
    return ("Earlier versions of this prompt, oldest first, with their held-out scores; "
            "keep what helped:\n" + "\n".join(lines))


def critique_request(name: str, prompt: str, failures: Sequence[Outcome]) -> str:
    """Ask for an explanation of the errors (PromptAgent's error feedback)."""
    return (f"{variable_block(name, prompt)}\n{example_blocks(failures)}\n"
            "The model answered these examples wrongly while following the prompt above. "
            "Critique the prompt: explain what the model got wrong and what the prompt "
            "fails to tell it. Reply in JSON with the key \"critique\".")


def rewrite_request(name: str, prompt: str, failures: Sequence[Outcome], critique: str,
                    ancestors: Sequence[tuple[str, float]] = ()) -> str:
    """Ask for a rewrite of the prompt that fixes the errors shown."""
    parts = [variable_block(name, prompt), example_blocks(failures, critique)]
    history = lineage_text(ancestors)
    if history:
        parts.append(history)
    parts.append("Propose a better value of the variable that fixes these errors. Reply in "
                 "JSON with keys \"reasoning\" and \"suggestion\" (a map from variable name "
                 "to its new value).")
    return "\n".join(p for p in parts if p)


def paraphrase_request(name: str, prompt: str) -> str:
    """Ask for a variant of the prompt with the same meaning (APO's Monte Carlo step)."""
    return (f"{variable_block(name, prompt)}\n"
            "Rewrite the variable above with the same meaning and a new value that may "
            "work better. Reply in JSON with keys \"reasoning\" and \"suggestion\".")


def parse_critique(text: str) -> str:
    """The critique in a reply: the "critique"-like key of its JSON, else the whole text."""
    try:
        data = extract_json(text)
    except StructuredOutputError:
        return text.strip()
    if isinstance(data, dict):
        for key in ("critique", "feedback", "reasoning", "explanation"):
            if isinstance(data.get(key), str) and data[key].strip():
                return data[key].strip()
    return text.strip()


def parse_suggestion(text: str, name: str) -> str | None:
    """The new value of variable ``name`` in a reply, or None when there is none usable.

    Accepts ``{"suggestion": {name: value}}``, ``{"suggestion": value}`` and
    ``{name: value}``; the value must be a non-empty string.
    """
    try:
        data = extract_json(text)
    except StructuredOutputError:
        return None
    if not isinstance(data, dict):
        return None
    sug = data.get("suggestion", data.get(name))
    if isinstance(sug, dict):
        sug = sug.get(name) if name in sug else (next(iter(sug.values())) if len(sug) == 1
                                                  else None)
    if isinstance(sug, str) and sug.strip():
        return sug.strip()
    return None


def gather(*aws: Any) -> Any:
    """``asyncio.gather`` (a name to keep call sites short)."""
    return asyncio.gather(*aws)
