"""The curator request: extract insights from failures versus successes.

The request follows the convention of docs/sim.md, which real models read as well:
the agent's prompt with the library's insights as a `<variable>`, the known insights
as `<insight id="...">` blocks, failing and succeeding examples as `<example>` blocks,
and a JSON reply with keys "reasoning", "suggestion" and "operations". The typed
operations in "operations" are used directly (the simulated LLM's curator role writes
ADD and UPVOTE there). Only a reply without operations falls back to "suggestion": the
sentences it added to the prompt become one ADD, with the reasoning as its condition.
A reply that is not JSON, or fills neither, yields no operations: nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from undertow.engine.convention import variable_tag
from undertow.engine.llm import extract_json
from undertow.optimizers.experience.feedback import Example
from undertow.optimizers.experience.records import RecordBase

SLOT = "system_prompt"

INSTRUCTIONS = """You curate a library of insights for an AI agent. The variable below is the \
agent's prompt followed by the insights it already has. Compare the failing examples with the \
succeeding ones: find the mistake the failures share and the rule that would have avoided it.
Known insights, by id:
{known}
{examples}
Propose a new value of the variable that adds the missing rule, and curator operations. \
Each operation is an object whose "op" is ADD (with "explanation", "condition", "taxonomy", \
"example"), EDIT (with "id", "explanation"), UPVOTE or DOWNVOTE (with "id"), MERGE (with "ids", \
"explanation"), REFINE_CONDITION (with "id", "condition") or DEPRECATE (with "id", "reason").
Reply in JSON with keys "reasoning", "suggestion" and "operations"."""


def _example(ex: Example) -> str:
    verdict = "Correct." if ex.success else (ex.feedback or "Wrong answer.")
    expected = f"<expected>{escape(ex.expected, quote=False)}</expected>\n" if ex.expected else ""
    return (f"<example>\n<input>{escape(ex.input, quote=False)}</input>\n"
            f"<output>{escape(ex.output, quote=False)}</output>\n{expected}"
            f"<feedback>{escape(verdict, quote=False)}</feedback>\n</example>")


def render_insight(record: RecordBase) -> str:
    """One known record as an `<insight id="...">` block (the sim's curator convention)."""
    return f'<insight id="{record.id}">{escape(record.render(), quote=False)}</insight>'


def render_request(base_prompt: str, known: Sequence[RecordBase], failures: Sequence[Example],
                   successes: Sequence[Example]) -> str:
    """The curator's user message."""
    current = "\n".join([base_prompt.strip(), *(r.render() for r in known)]).strip()
    listing = "\n".join(render_insight(r) for r in known) or "(none yet)"
    shown = "\n".join([_example(e) for e in failures] + [_example(e) for e in successes])
    return (f"{variable_tag(SLOT, 'text', current)}\n"
            + INSTRUCTIONS.format(known=listing, examples=shown))


_WHY = re.compile(r"The model (.+?), and the prompt never says")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def parse_reply(text: str, shown_value: str, *, scope: str, example: str = "") -> list[dict[str, Any]]:
    """Curator operations from a reply (see the module docstring); [] when there are none."""
    try:
        obj = extract_json(text)
    except Exception:  # noqa: BLE001 - any unreadable reply means "no operations"
        return []
    if not isinstance(obj, dict):
        return []
    ops = obj.get("operations")
    if isinstance(ops, list) and ops:
        return [o for o in ops if isinstance(o, dict)]
    suggestion = obj.get("suggestion")
    new = suggestion.get(SLOT) if isinstance(suggestion, dict) else None
    if not isinstance(new, str):
        return []
    old = set(_sentences(shown_value))
    added = [s for s in _sentences(new) if s not in old]
    if not added:
        return []
    reasoning = str(obj.get("reasoning", ""))
    m = _WHY.search(reasoning)
    condition = f"items on which a model {m.group(1)}" if m else reasoning[:200].strip()
    return [{"op": "ADD", "explanation": " ".join(added), "condition": condition,
             "taxonomy": [scope], "example": example}]
