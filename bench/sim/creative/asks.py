"""Which creative job a request asks for, from generic cues (several synonyms each)."""

from __future__ import annotations

import re

from . import reading as R

_WRITE = re.compile(r"\b(?:write|compose|draft|rewrite|re-write|create|produce|pen|combine|merge|blend|"
                    r"improve|revise|rework|edit|tell|craft|generate|fuse)\b", re.IGNORECASE)
_CREATIVE = re.compile(r"\b(?:stor(?:y|ies)|tales?|poems?|texts?|pieces?|blurbs?|narratives?|fiction|"
                       r"vignettes?|fables?|anecdotes?|passages?|drafts?)\b", re.IGNORECASE)
_NOT_CREATIVE = re.compile(r"\b(?:prompts?|instructions?|system message|code|function|program|query|"
                           r"variable)\b|<variable\b", re.IGNORECASE)
# rating asked as a verb ("score the text", "give a rating", "which option"), not a noun
# ("its quality score is 3/10")
# a writing request given as a spec sheet ("Genre: horror" / "Tone: gloomy" lines), no verb
_SPEC = re.compile(r"^[ \t*-]*(?:tone|genre|length|mood|style)[ \t]*:", re.IGNORECASE | re.MULTILINE)
_RATE = re.compile(r"\b(?:rate|score|grade|evaluate|assess|judge|classify|categori[sz]e|label|place|bin|sort)"
                   r"\s+(?:the|this|that|these|it|each|how|whether|its|a|an|on|from)\b|"
                   r"\b(?:give|assign|provide|return|output|reply with|answer with)\s+(?:it\s+)?"
                   r"(?:a|the|your|one)?\s*(?:score|rating|grade|label|category|mark)\b|"
                   r"\bwhich (?:option|category|bin|class|label|bucket)\b|\bpick (?:exactly )?one\b|"
                   r"\bhow (?:well|good|closely)\b|\bwhat (?:score|rating|grade)\b", re.IGNORECASE)
_QUALITY = re.compile(r"\b(?:quality|rules?|criteria|requirements?|constraints?|well (?:it|the)|how good)\b",
                      re.IGNORECASE)
_SIMILAR = re.compile(r"\b(?:more similar|most similar|more like|closer to|resembles?|more alike|"
                      r"nearer to|similar(?:ity)?)\b", re.IGNORECASE)


# requests of other jobs: optimizer variables, task items with outputs and expected answers
_FOREIGN = re.compile(r"<variable\b|<example\b|<(?:lm_)?input>|<expected>|^#\s*Variables\b|\[\[ ## \w+ ## \]\]",
                      re.IGNORECASE | re.MULTILINE)


def foreign(text: str) -> bool:
    """True for requests that carry another job's structures (never a creative request)."""
    return _FOREIGN.search(text) is not None


def instructions(text: str) -> str:
    return R.instructions(text)


def asks_similarity(text: str) -> bool:
    if foreign(text):
        return False
    instr = instructions(text)
    return bool(_SIMILAR.search(instr)) and len(R.passages(text)) >= 3


def asks_axis(text: str) -> bool:
    if foreign(text):
        return False
    from .judging import options

    instr = instructions(text)
    return bool(_RATE.search(instr)) and len(options(instr)) >= 2 and len(R.passages(text)) >= 1 \
        and not _SIMILAR.search(instr)


def asks_quality(text: str) -> bool:
    if foreign(text):
        return False
    from .judging import options

    instr = instructions(text)
    return bool(_RATE.search(instr)) and bool(_QUALITY.search(instr)) and len(R.passages(text)) >= 1 \
        and len(options(instr)) < 2 and not _SIMILAR.search(instr)


def asks_writing(text: str) -> bool:
    if foreign(text):
        return False
    instr = instructions(text)
    asked = bool(_WRITE.search(instr)) or bool(_SPEC.search(instr))
    return asked and (bool(_CREATIVE.search(instr)) or bool(R.passages(text))) and not _NOT_CREATIVE.search(instr) \
        and not asks_quality(text) and not asks_axis(text) and not asks_similarity(text)
