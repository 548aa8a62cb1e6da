"""Dyck languages: close the brackets a sequence left open (BBH `dyck_languages`).

The input is a prefix of a well-formed sequence over `() [] {} <>`; the answer is the
closing brackets that complete it, innermost first. Skills an item can need:
- `stack_order`: brackets close in reverse order of opening; closing them in the
  order they were opened gives a different answer;
- `match_closed`: brackets the input already closed need no closing again; closing
  every opener in the input gives a different answer.
"""

from __future__ import annotations

import random
import re

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._profile import ReasoningProfile, check_skills
from undertow.bench.tasks.reasoning._text import after_marker, extract_answer
from undertow.bench.sim.profile import Skill

NAME = "dyck_languages"
SKILLS: tuple[str, ...] = ("stack_order", "match_closed")
PREFIX = ("Complete the rest of the sequence, making sure that the parentheses are "
          "closed properly. Input: ")
PAIRS: dict[str, str] = {"(": ")", "[": "]", "{": "}", "<": ">"}
CLOSERS: dict[str, str] = {c: o for o, c in PAIRS.items()}


def generate(rng: random.Random) -> Example:
    """A random walk over bracket depth that stops with 1 or more brackets open.

    Lengths run from 2 to about 60 tokens and nesting up to 25 deep, so that solvers
    are tested on long, deep inputs as well as short ones.
    """
    length = rng.randint(2, 60)
    max_depth = rng.choice((3, 6, 12, 25))
    open_bias = rng.uniform(0.45, 0.75)
    tokens: list[str] = []
    stack: list[str] = []
    while len(tokens) < length or not stack:
        must_open = not stack
        if must_open or (len(stack) < max_depth and rng.random() < open_bias):
            opener = rng.choice(tuple(PAIRS))
            stack.append(opener)
            tokens.append(opener)
        else:
            tokens.append(PAIRS[stack.pop()])
    closing = [PAIRS[o] for o in reversed(stack)]
    skills = [s for s, needed in (
        ("stack_order", closing != [PAIRS[o] for o in stack]),
        ("match_closed", any(t in CLOSERS for t in tokens)),
    ) if needed]
    return Example(
        input=PREFIX + " ".join(tokens),
        target=" ".join(closing),
        meta={"task": NAME, "skills": skills, "n_tokens": len(tokens),
              "open_depth": len(stack),
              "difficulty": round(min(len(tokens) + 2 * len(stack), 80) / 80, 3)},
    )


def _sequence(text: str) -> list[str]:
    tokens = after_marker(text, "Input:", NAME).split()
    for token in tokens:
        if token not in PAIRS and token not in CLOSERS:
            raise ValueError(f"{NAME}: {token!r} is not a bracket; items are "
                             f"space-separated tokens from {''.join(PAIRS)}{''.join(CLOSERS)}")
    return tokens


def _open_stack(tokens: list[str]) -> list[str]:
    stack: list[str] = []
    for i, token in enumerate(tokens):
        if token in PAIRS:
            stack.append(token)
        elif not stack or stack.pop() != CLOSERS[token]:
            raise ValueError(f"{NAME}: {token!r} at position {i} closes nothing open; "
                             "the input must be a prefix of a well-formed sequence")
    return stack


def solve(input: str) -> str:
    """Close the brackets still open at the end of the input, innermost first."""
    return " ".join(PAIRS[o] for o in reversed(_open_stack(_sequence(input))))


def answer_without(input: str, missing: frozenset[str] | set[str]) -> str:
    """The answer of a solver lacking the skills in `missing` (the characteristic errors)."""
    check_skills(NAME, missing, SKILLS)
    tokens = _sequence(input)
    still_open = [t for t in tokens if t in PAIRS] if "match_closed" in missing \
        else _open_stack(tokens)
    order = still_open if "stack_order" in missing else list(reversed(still_open))
    return " ".join(PAIRS[o] for o in order)


def _brackets(text: str) -> str:
    return "".join(ch for ch in text if ch in PAIRS or ch in CLOSERS)


def score(prediction: str, target: str) -> float:
    """1.0 when the predicted brackets equal the target's, spacing aside.

    `"] ] >"`, `"]]>"` and `"] ] >."` all match; so does a reply that repeats the whole
    completed sequence, as long as it ends with exactly the target's closers and
    forms a well-formed whole.
    """
    got, want = _brackets(extract_answer(prediction)), _brackets(target)
    if got == want:
        return 1.0
    if len(got) > len(want) and got.endswith(want):
        try:
            return float(not _open_stack(list(got)))
        except ValueError:
            return 0.0
    return 0.0


class DyckLanguagesProfile(ReasoningProfile):
    """What the simulated LLM knows about completing bracket sequences."""

    name = NAME
    description = "close the brackets a sequence left open"
    keywords = ("parentheses", "brackets", "dyck", "closed properly", "sequence")
    item_pattern = re.compile(r"Complete the rest of the sequence[^\n]*?Input:[ \t()\[\]{}<>]*")
    verbose_template = "To close the sequence properly we need {answer}."
    skills = (
        Skill(name="stack_order",
              description="open brackets close in reverse order of opening",
              cues=("reverse order", "last opened ... first closed", "use a stack",
                    "innermost ... first"),
              fix="Close the open brackets in reverse order of opening: the last one opened "
                  "is the first one closed (use a stack).",
              keywords=("order", "reverse", "stack", "innermost", "last opened"),
              error="it closes the open brackets in the order they were opened"),
        Skill(name="match_closed",
              description="brackets the input already closed need no closer",
              cues=("already closed", "still open", "matched pairs", "skip ... closed"),
              fix="Skip brackets that are already closed in the input: close only the ones "
                  "still open at the end.",
              keywords=("already closed", "extra", "too many", "matched", "still open"),
              error="it adds a closer for every opening bracket, including those the input "
                    "already closed"),
    )


PROFILE = DyckLanguagesProfile(solve, answer_without, score)
