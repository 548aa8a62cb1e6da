"""Short stories about an object: varied in tone, genre and length, each following a rule.

One seed picks the object. The quality rule is checkable in code (`check`):

1. the story mentions the object (its head noun, e.g. "lantern");
2. it stays within `WORD_CAP` words;
3. it ends with a complete sentence (final ".", "!" or "?");
4. no sentence is repeated.

Quality = the share of rules met (0, 0.25, ..., 1). The axes are given to the LLM as
text: tone (very gloomy .. very cheerful, ordered), genre (five categories) and length
class (with word ranges), 5 x 5 x 3 = 75 cells.
"""

from __future__ import annotations

import re

from undertow.optimizers.qd import Axis, QDProblem

WORD_CAP = 120
OBJECTS = ("brass lantern", "pocket watch", "paper kite", "glass jar", "old map", "red umbrella",
           "silver key", "wooden chair", "cracked mirror", "violin")

AXES = (
    Axis("tone", "the emotional tone of the story, from gloomy to cheerful",
         ("very gloomy", "gloomy", "neutral", "cheerful", "very cheerful")),
    Axis("genre", "the genre the story belongs to",
         ("science fiction", "mystery", "romance", "fantasy", "horror")),
    Axis("length", "how long the story is, counted in words",
         ("short (under 40 words)", "medium (40 to 80 words)", "long (over 80 words)")),
)

_WORD = re.compile(r"[A-Za-z']+")
_SENTENCE = re.compile(r"[^.!?]+[.!?]")


def object_for(seed: int) -> str:
    """The object of the run with this seed."""
    return OBJECTS[seed % len(OBJECTS)]


def problem(seed: int) -> QDProblem:
    """The brief, rule and axes for one seed."""
    obj = object_for(seed)
    head = obj.split()[-1]
    article = "an" if obj[0] in "aeiou" else "a"
    brief = f"Write a story in which {article} {obj} plays a part."
    rule = (f"the story must mention the {head}, use at most {WORD_CAP} words, end with a complete "
            "sentence, and never repeat a sentence.")
    return QDProblem(brief=brief, rule=rule, axes=AXES)


def rule_report(text: str, obj: str) -> dict[str, bool]:
    """Which of the four rules `text` meets."""
    head = obj.split()[-1].lower()
    words = _WORD.findall(text)
    stripped = text.strip()
    sentences = [s.strip().lower() for s in _SENTENCE.findall(stripped)]
    return {
        "mentions": any(w.lower().rstrip("s'") == head or w.lower() == head for w in words),
        "word_cap": 0 < len(words) <= WORD_CAP,
        "complete": bool(stripped) and stripped[-1] in ".!?\"'" and stripped.rstrip("\"'")[-1:] in ".!?",
        "no_repeat": len(sentences) == len(set(sentences)),
    }


def check(text: str, obj: str) -> float:
    """Quality in [0, 1]: the share of the four rules met."""
    report = rule_report(text, obj)
    return sum(report.values()) / len(report)
