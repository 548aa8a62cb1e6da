"""What APE, SPO, APOHF and GEPA share: the program they optimize, the parameter each
step works on, the requests they send, and their budget ledger.

Every one of them works on a `Program` (see `undertow.optimizers.program`) and changes
one ``text`` parameter per step, in turn (round-robin); GEPA also merges. Requests use
the convention of docs/sim.md (a ``<variable>`` block, ``<example>`` blocks, a JSON
reply with "reasoning" and "suggestion"), which real models read as plain text too.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from undertow.engine import InvalidValueError, Parameter
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.fanout import Fanout, as_fanout
from undertow.optimizers.program import Program, Rollout
from undertow.optimizers.search.prompting import Item, _esc, as_items


class ProgramOptimizer(Optimizer):
    """Base of the prompt optimizers: a program, its text parameters, a budget ledger.

    ``budget`` counts what each phase spent: ``rollouts`` (items answered by the
    program) and ``requests`` (optimizer-model calls), by phase name. ``fanout`` (a
    `Fanout` or a width) runs the rollouts of a minibatch as that many jobs at once
    (None: the program answers a minibatch in one call); results do not depend on it.
    """

    def __init__(self, program: Program, *, train: Sequence[Any], seed: int = 0,
                 fanout: Fanout | int | None = None) -> None:
        super().__init__(program.parameters)
        self.fanout = as_fanout(fanout)
        program.check_names()
        self.program = program
        self.train: list[Item] = as_items(train, "train")
        self.seed = seed
        self.text_params = [p for p in self.parameters if p.kind == "text"]
        if not self.text_params:
            raise ValueError(f"{type(self).__name__} changes text parameters (prompts); the program "
                             f"has kinds {sorted({p.kind for p in self.parameters})}")
        self.budget: Counter[str] = Counter()

    def by_name(self, name: str) -> Parameter:
        return next(p for p in self.parameters if p.label == name)

    def target(self) -> Parameter:
        """The text parameter this step works on: round-robin over the program's prompts."""
        return self.text_params[self.steps % len(self.text_params)]

    def spend(self, phase: str, rollouts: int = 0, requests: int = 0) -> None:
        if rollouts:
            self.budget[f"{phase}.rollouts"] += rollouts
        if requests:
            self.budget[f"{phase}.requests"] += requests

    def valid(self, param: Parameter, text: str | None) -> str | None:
        """``text`` as a value of ``param``, or None if it is missing or breaks a constraint."""
        if text is None:
            return None
        with contextlib.suppress(InvalidValueError):
            return param.validate(text)
        return None

    def apply(self, name: str, value: Any, reason: str, meta: dict[str, Any]) -> list[Proposal]:
        param = self.by_name(name)
        if value == param.value:
            return []
        return [self.propose(param, value, reason=reason, meta=meta)]

    def base_state(self) -> dict[str, Any]:
        return {"budget": dict(self.budget)}

    def load_base_state(self, state: dict[str, Any]) -> None:
        self.budget = Counter({str(k): int(v) for k, v in state.get("budget", {}).items()})


# -- requests -------------------------------------------------------------------------------
def demo_blocks(demos: Sequence[tuple[str, str]]) -> str:
    """Demonstrations (input, expected output) as ``<example>`` blocks."""
    return "\n".join(f"<example>\n<input>{_esc(i)}</input>\n<expected>{_esc(o)}</expected>\n</example>"
                     for i, o in demos)


def rollout_blocks(rollouts: Sequence[Rollout], name: str | None = None, *, labels: bool = True) -> str:
    """Rollouts as ``<example>`` blocks: the input the parameter saw (or the item's),
    its output, and with ``labels`` the expected answer and the feedback."""
    parts = []
    for r in rollouts:
        call = next((c for c in r.calls if c.parameter == name), None) if name else None
        seen = call.input if call else r.item.input
        fields = [f"<input>{_esc(seen)}</input>", f"<output>{_esc(r.output)}</output>"]
        if labels and r.item.target:
            fields.append(f"<expected>{_esc(r.item.target)}</expected>")
        if labels and r.feedback:
            fields.append(f"<feedback>{_esc(r.feedback)}</feedback>")
        parts.append("<example>\n" + "\n".join(fields) + "\n</example>")
    return "\n".join(parts)


JSON_REPLY = ('Reply in JSON with keys "reasoning" and "suggestion" (a map from the variable '
              'name to its new value).')
