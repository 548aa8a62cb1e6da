"""The optimizer role for code variables: pick the candidate fix the shown evidence points to.

Profiles offer `CodeFix`es for code they recognize (`TaskProfile.code_fixes`). The
evidence is what the request shows as feedback and outputs (test output, harness
messages, error text); each fix scores one point per keyword found there. With
evidence the best-scoring fix wins, except for a `MISDIAGNOSE` share of misreadings;
with none, the fix is a guess among all candidates.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from undertow.bench.sim.diagnose import MISDIAGNOSE
from undertow.bench.sim.profile import CodeFix, TaskProfile
from undertow.bench.sim.request import Block


@dataclass
class CodeChoice:
    """The chosen fix and whether the evidence picked it (False: a guess)."""

    fix: CodeFix
    guessed: bool


def code_evidence(blocks: Sequence[Block]) -> str:
    """The text a code diagnosis may read: shown feedback and outputs, never the code."""
    return "\n".join(b.fields.get(f, "") for b in blocks for f in ("feedback", "output"))


def choose_fix(code: str, text: str, blocks: Sequence[Block], profiles: Sequence[TaskProfile],
               rng: random.Random) -> CodeChoice | None:
    """The fix to apply to `code`, or None when no profile offers one."""
    fixes = [f for p in profiles for f in p.code_fixes(code, text)]
    if not fixes:
        return None
    evidence = code_evidence(blocks)
    scored = sorted(((f.named_in(evidence), rng.random(), i) for i, f in enumerate(fixes)),
                    reverse=True)
    best, _, index = scored[0]
    if best == 0:
        return CodeChoice(rng.choice(fixes), guessed=True)
    if rng.random() < MISDIAGNOSE:
        return CodeChoice(rng.choice(fixes), guessed=False)
    return CodeChoice(fixes[index], guessed=False)


def code_reasoning(name: str, choice: CodeChoice) -> str:
    """The reasoning an optimizer reply shows for a code change."""
    if choice.guessed:
        return (f"Nothing shown says what is wrong with {name}, so this is a guess: "
                f"{choice.fix.description}")
    return f"The feedback on {name} points at a weakness. {choice.fix.description}"
