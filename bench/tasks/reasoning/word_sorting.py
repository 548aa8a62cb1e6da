"""Word sorting: put a list of words in alphabetical order (BBH `word_sorting` style).

Skills an item can need:
- `compare_all_letters`: words share a first letter, so sorting by the first letter
  alone (keeping the list order within a letter) gives a wrong order;
- `keep_duplicates`: a word occurs twice and both copies belong in the answer.
"""

from __future__ import annotations

import random

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._text import after_marker, extract_answer
from undertow.bench.tasks.reasoning._words import WORDS

NAME = "word_sorting"
SKILLS: tuple[str, ...] = ("compare_all_letters", "keep_duplicates")
PREFIX = "Sort the following words alphabetically: List: "
MIN_WORDS, MAX_WORDS = 2, 20


def generate(rng: random.Random) -> Example:
    """A list of 2-20 distinct vocabulary words, sometimes with one word repeated."""
    n = rng.randint(MIN_WORDS, MAX_WORDS)
    words = rng.sample(WORDS, n)
    if n >= 3 and rng.random() < 0.2:
        words.insert(rng.randrange(n + 1), rng.choice(words))
    target = sorted(words)
    by_first = sorted(words, key=lambda w: w[0])
    skills = [s for s, needed in (
        ("compare_all_letters", by_first != target),
        ("keep_duplicates", len(set(words)) < len(words)),
    ) if needed]
    return Example(
        input=PREFIX + " ".join(words),
        target=" ".join(target),
        meta={"task": NAME, "skills": skills, "difficulty": round(len(words) / 21, 3),
              "n_words": len(words)},
    )


def _words(text: str) -> list[str]:
    words = after_marker(text, "List:", NAME).split()
    if not words:
        raise ValueError(f"{NAME}: the list after 'List:' is empty in {text[:80]!r}")
    return words


def solve(input: str) -> str:
    """Sort the words after `List:` by code point (all words are lower case)."""
    return " ".join(sorted(_words(input)))


def mistake(input: str, skill: str) -> str:
    """The characteristic wrong answer to `input` of a solver lacking `skill`."""
    words = _words(input)
    if skill == "compare_all_letters":
        return " ".join(sorted(words, key=lambda w: w[0]))
    if skill == "keep_duplicates":
        return " ".join(sorted(set(words)))
    raise ValueError(f"{NAME}: unknown skill {skill!r}; choose one of {SKILLS}")


def score(prediction: str, target: str) -> float:
    """1.0 when the predicted words, in order, equal the target's.

    Case, commas, newlines and list bullets are ignored: `"Barn, damp"` and
    `"- barn\\n- damp"` both match `"barn damp"`.
    """
    span = extract_answer(prediction).lower()
    for sep in (",", ";", "\n"):
        span = span.replace(sep, " ")
    got = [w for w in span.split() if w not in ("-", "*", "and")]
    return float(got == target.lower().split())
