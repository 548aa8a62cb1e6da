"""Text helpers shared by the reasoning tasks: answer extraction and number words.

Model answers rarely come bare ("So the answer is 24."), so every task's `score`
first narrows a prediction down to its answer span with `extract_answer`.
"""

from __future__ import annotations

import re

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
WORDS_FOR: dict[int, str] = {
    n: w for w, n in NUMBER_WORDS.items() if w not in ("a", "an", "zero")
}

_ANSWER_IS = re.compile(r"(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*", re.IGNORECASE)
_WRAPPERS = "\"'`*_ \t\n"


def extract_answer(text: str) -> str:
    """The answer span of a model's reply: what follows the last "answer is", trimmed.

    Strips surrounding quotes, markdown emphasis and one trailing period, so that
    `'So the answer is **24**.'` becomes `'24'`. Text without such a phrase is only
    trimmed.
    """
    parts = _ANSWER_IS.split(text)
    span = parts[-1] if len(parts) > 1 else text
    span = span.strip().strip(_WRAPPERS)
    if span.endswith(".") and not span.endswith(".."):
        span = span[:-1].rstrip().strip(_WRAPPERS)
    return span


def parse_int(token: str) -> int | None:
    """An integer written in digits (commas allowed, `24.0` too) or as a number word."""
    token = token.strip().strip(_WRAPPERS).rstrip(".").lower()
    if token in NUMBER_WORDS:
        return NUMBER_WORDS[token]
    token = token.replace(",", "")
    if re.fullmatch(r"[+-]?\d+(?:\.0+)?", token):
        return int(float(token)) if "." in token else int(token)
    return None


def after_marker(text: str, marker: str, task: str) -> str:
    """The part of `text` after `marker`; a clear error when the marker is missing."""
    index = text.find(marker)
    if index < 0:
        raise ValueError(
            f"{task}: input does not contain {marker!r}; expected an item as produced "
            f"by {task}.generate(), got {text[:80]!r}"
        )
    return text[index + len(marker):]
