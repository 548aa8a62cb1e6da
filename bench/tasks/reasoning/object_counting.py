"""Object counting: how many things of one category do I have (BBH `object_counting`).

Skills an item can need:
- `count_multiples`: an entry says "three bananas", which counts three, not one;
- `filter_category`: the list mixes in things of other categories, which do not count.
"""

from __future__ import annotations

import random
import re

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._objects import CATEGORIES, CATEGORY_OF
from undertow.bench.tasks.reasoning._profile import ReasoningProfile, check_skills
from undertow.bench.tasks.reasoning._text import (
    NUMBER_WORDS,
    WORDS_FOR,
    after_marker,
    extract_answer,
    parse_int,
)
from undertow.bench.sim.profile import Skill

NAME = "object_counting"
SKILLS: tuple[str, ...] = ("count_multiples", "filter_category")
_QUESTION = re.compile(r"How many (.+?) do I have\?\s*$")


def _phrase(count: int, singular: str, plural: str) -> str:
    if count == 1:
        return ("an " if singular[0] in "aeiou" else "a ") + singular
    return f"{WORDS_FOR[count]} {plural}"


def generate(rng: random.Random) -> Example:
    """2-12 entries, some counted in number words, some from other categories."""
    category = rng.choice(sorted(CATEGORIES))
    n_entries = rng.randint(2, 12)
    others = [c for c in sorted(CATEGORIES) if c != category]
    entries: list[tuple[int, str, str, bool]] = []  # count, singular, plural, counts?
    n_distract = 0 if category == "objects" or rng.random() < 0.35 else rng.randint(1, 4)
    pool = rng.sample(CATEGORIES[category], min(n_entries, len(CATEGORIES[category])))
    for singular, plural in pool:
        count = 1 if rng.random() < 0.6 else rng.randint(2, 5)
        entries.append((count, singular, plural, True))
    for _ in range(n_distract):
        singular, plural = rng.choice(CATEGORIES[rng.choice(others)])
        if any(s == singular for _, s, _, _ in entries):
            continue
        entries.append((1 if rng.random() < 0.6 else rng.randint(2, 5), singular, plural, False))
    rng.shuffle(entries)
    phrases = [_phrase(c, s, p) for c, s, p, _ in entries]
    listing = phrases[0] if len(phrases) == 1 else (
        ", ".join(phrases[:-1]) + (", and " if len(phrases) > 2 else " and ") + phrases[-1]
    )
    target = sum(c for c, _, _, counts in entries if counts)
    skills = [s for s, needed in (
        ("count_multiples", any(c > 1 for c, _, _, counts in entries if counts)),
        ("filter_category", any(not counts for *_, counts in entries)),
    ) if needed]
    return Example(
        input=f"I have {listing}. How many {category} do I have?",
        target=str(target),
        meta={"task": NAME, "skills": skills, "category": category,
              "difficulty": round(len(entries) / 16, 3), "n_entries": len(entries)},
    )


def _parse(text: str) -> tuple[str, list[tuple[int, str]]]:
    """(asked category, [(count, category of entry)]) from an item's text."""
    body = after_marker(text, "I have ", NAME)
    question = _QUESTION.search(body)
    if question is None:
        raise ValueError(f"{NAME}: no 'How many ... do I have?' question in {text[:80]!r}")
    category = question.group(1)
    if category not in CATEGORIES:
        raise ValueError(f"{NAME}: unknown category {category!r}; known: {sorted(CATEGORIES)}")
    listing = body[:question.start()].strip().rstrip(".")
    entries = []
    for phrase in re.split(r",\s*(?:and\s+)?|\s+and\s+", listing):
        word, _, noun = phrase.strip().partition(" ")
        if word not in NUMBER_WORDS or noun not in CATEGORY_OF:
            raise ValueError(f"{NAME}: cannot read the entry {phrase!r} in {text[:80]!r}")
        entries.append((NUMBER_WORDS[word], CATEGORY_OF[noun]))
    return category, entries


def solve(input: str) -> str:
    """Sum the counts of the entries whose noun belongs to the asked category."""
    category, entries = _parse(input)
    return str(sum(n for n, c in entries if c == category))


def answer_without(input: str, missing: frozenset[str] | set[str]) -> str:
    """The answer of a solver lacking the skills in `missing` (the characteristic errors)."""
    check_skills(NAME, missing, SKILLS)
    category, entries = _parse(input)
    if "filter_category" not in missing:
        entries = [(n, c) for n, c in entries if c == category]
    if "count_multiples" in missing:
        entries = [(1, c) for _, c in entries]
    return str(sum(n for n, _ in entries))


def score(prediction: str, target: str) -> float:
    """1.0 when the answer is the target number, in digits or words ("8", "eight.")."""
    values = [parse_int(t) for t in extract_answer(prediction).split()
              if t.lower() not in ("a", "an")]
    found = [v for v in values if v is not None]
    return float(bool(found) and found[0] == parse_int(target))


class ObjectCountingProfile(ReasoningProfile):
    """What the simulated LLM knows about object counting."""

    name = NAME
    description = "count the things of one category in a list"
    keywords = ("count", "how many", "object counting", "number of items")
    item_pattern = re.compile(r"I have [^?\n]+\?")
    verbose_template = "Counting them up, I get {answer}."
    skills = (
        Skill(name="count_multiples",
              description='an entry like "three bananas" counts as three',
              cues=("quantities", "counts as three", "number words", "count ... each ... quantity"),
              fix='Count quantities: an entry such as "three bananas" counts as three items, '
                  "not one.",
              keywords=("quantity", "quantities", "plural", "undercount", "number word",
                        "too low"),
              error="it counts an entry such as 'three bananas' as one item"),
        Skill(name="filter_category",
              description="only things of the asked category count",
              cues=("belong to the category", "category asked", "only ... asked about",
                    "ignore ... other kind"),
              fix="Count only the things that belong to the category asked about; ignore "
                  "items of any other kind.",
              keywords=("category", "other kind", "overcount", "too high", "belong",
                        "not a fruit", "distractor"),
              error="it counts every item in the list, including those of other categories"),
    )


PROFILE = ObjectCountingProfile(solve, answer_without, score)
