"""Word sorting: put a list of words in alphabetical order (BBH `word_sorting` style).

Skills an item can need:
- `compare_all_letters`: words share a first letter, so sorting by the first letter
  alone (keeping the list order within a letter) gives a wrong order;
- `keep_duplicates`: a word occurs twice and both copies belong in the answer.
"""

from __future__ import annotations

import random
import re

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._profile import ReasoningProfile, check_skills
from undertow.bench.tasks.reasoning._text import after_marker, extract_answer
from undertow.bench.tasks.reasoning._words import WORDS
from undertow.bench.sim.profile import Skill

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


def answer_without(input: str, missing: frozenset[str] | set[str]) -> str:
    """The answer of a solver lacking the skills in `missing` (the characteristic errors)."""
    check_skills(NAME, missing, SKILLS)
    words = _words(input)
    if "keep_duplicates" in missing:
        words = list(dict.fromkeys(words))
    if "compare_all_letters" in missing:
        return " ".join(sorted(words, key=lambda w: w[0]))
    return " ".join(sorted(words))


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


class WordSortingProfile(ReasoningProfile):
    """What the simulated LLM knows about word sorting."""

    name = NAME
    description = "sort a list of words alphabetically"
    keywords = ("sort", "alphabetically", "alphabetical order", "word sorting")
    item_pattern = re.compile(r"Sort the following words alphabetically: List:[^\n]*")
    verbose_template = "Sorted alphabetically, the words are {answer}."
    skills = (
        Skill(name="compare_all_letters",
              description="words with the same first letter are ordered by their next letters",
              cues=("letter by letter", "second letter", "next letter", "first differing letter",
                    "same first letter ... compare"),
              fix="When two words start with the same letter, compare them letter by letter: "
                  "the first differing letter decides the order.",
              keywords=("first letter", "second letter", "same letter", "letter by letter",
                        "tie"),
              error="it orders words by their first letter only, keeping the list order "
                    "among words that share it"),
        Skill(name="keep_duplicates",
              description="a word listed twice appears twice in the answer",
              cues=("duplicate", "every occurrence", "repeated word", "listed twice"),
              fix="Keep every occurrence of a repeated word: a word listed twice appears "
                  "twice in the answer (keep duplicates).",
              keywords=("duplicate", "duplicates", "repeated", "twice", "missing word",
                        "dropped"),
              error="it drops the second copy of a repeated word"),
    )


PROFILE = WordSortingProfile(solve, answer_without, score)
