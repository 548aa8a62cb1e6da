"""How the simulated judge rates creative texts: on an axis, for quality, for similarity.

- **Axis** (`rate_axis`): it reads the options (bins) from the request and decides what
  they measure: sentiment when the options carry tone words (ordered by their
  sentiment; the text's tone = (positive - negative tone words) per sentence, nearest
  option), length when they name short/medium/long or word counts (word ranges read from
  the options, else 0-40-80), a category otherwise (genre cue words per option when the
  option names a known genre, else the option's own words in the text). Noise: an
  adjacent or random option now and then, more often near a boundary.
- **Quality** (`rate_quality`): the rules stated in the request (mention X, at most N
  words, complete final sentence, no repeated sentence), checked; score = share met on
  the scale asked for (0-10 unless the request names another), +-1 noise sometimes.
  Without stated rules it can only check the generic ones (complete, no repeats).
- **Similarity** (`more_similar`): cosine of the two candidates' word counts (content
  words) against the anchor's; flips the answer with probability 0.1.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter

from . import lexicon as L
from . import reading as R

_SENTENCE = re.compile(r"[^.!?]+[.!?]?")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def tone_value(text: str) -> float:
    pos, neg = L.tone_counts(text)
    return (pos - neg) / max(1, len(sentences(text)))


def genre_scores(text: str) -> dict[str, int]:
    ws = Counter(L.words(text))
    return {g: sum(ws[c] for c in info["cues"]) for g, info in L.GENRES.items()}


def length_class(text: str) -> str:
    n = len(L.words(text))
    return "short" if n < 40 else "medium" if n <= 80 else "long"


# -- options ------------------------------------------------------------------------------
_OPTIONS_LINE = re.compile(r"\b(?:options?|bins?|categories|labels?|choices|classes|values|buckets|levels|"
                           r"one of|pick from|choose from|possible answers)\b\s*(?:are|is)?\s*[:=]?\s*(.+)",
                           re.IGNORECASE)
_OPTIONS_KEY = re.compile(r"\b(?:options?|bins?|categories|labels?|choices|classes|values|buckets|levels|"
                          r"one of|pick from|choose from|possible answers)\b", re.IGNORECASE)
_BULLET = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])[ \t]+(.+?)[ \t]*$", re.MULTILINE)


def _split_options(raw: str) -> list[str]:
    raw = re.split(r"(?<=[^\s.])\.\s+(?=[A-Z])", raw.strip())[0]   # the list ends with its sentence
    raw = raw.strip().rstrip(".")
    if raw.startswith("["):
        raw = raw.strip("[]")
    for sep in ("|", ";", " / ", ","):
        parts = [p.strip().strip("\"'`") for p in raw.split(sep)]
        parts = [p for p in parts if p]
        if len(parts) >= 2:
            if sep == "," and len(parts) >= 2 and parts[-1].lower().startswith("or "):
                parts[-1] = parts[-1][3:]
            return parts
    parts = [p.strip().strip("\"'`") for p in re.split(r"\s+or\s+", raw)]
    return [p for p in parts if p] if len(parts) >= 2 else []


def options(instr: str) -> list[str]:
    """The options (bins) a rating request lists, in order."""
    found: list[list[str]] = []
    for m in _OPTIONS_KEY.finditer(instr):       # every mention; the longest list wins
        rest = _OPTIONS_LINE.match(instr, m.start())
        got = _split_options(rest.group(1).split("\n")[0]) if rest else []
        if len(got) >= 2:
            found.append(got)
    if found:
        return max(reversed(found), key=len)
    bullets = _BULLET.findall(instr)
    return bullets if len(bullets) >= 2 else []


def _ranges(opts: list[str]) -> list[tuple[float, float]] | None:
    out = []
    for o in opts:
        nums = [int(n) for n in re.findall(r"\d+", o)]
        low = o.lower()
        if len(nums) >= 2:
            out.append((float(nums[0]), float(nums[1])))
        elif len(nums) == 1 and re.search(r"under|below|less|fewer|up to|<|at most", low):
            out.append((0.0, float(nums[0])))
        elif len(nums) == 1 and re.search(r"over|above|more|at least|>|\+", low):
            out.append((float(nums[0]), math.inf))
        else:
            return None
    return out


def axis_kind(opts: list[str], description: str) -> str:
    """tone, length or category."""
    sent = [L.label_sentiment(o) for o in opts]
    if sum(s is not None for s in sent) >= max(2, len(opts) - 1) and len({s for s in sent if s is not None}) >= 2:
        return "tone"
    if _ranges(opts) is not None or sum(L.length_of_label(o) is not None for o in opts) >= 2:
        return "length"
    return "category"


def rate_axis(text: str, opts: list[str], description: str, rng: random.Random) -> str:
    """The option the text falls in (see the module docstring)."""
    kind = axis_kind(opts, description)
    if kind == "tone":
        values = [L.label_sentiment(o) for o in opts]
        t = tone_value(text)
        ranked = sorted((abs((v if v is not None else 99) - t), i) for i, v in enumerate(values))
        i = ranked[0][1]
        if rng.random() < 0.1:
            i = max(0, min(len(opts) - 1, i + rng.choice([-1, 1])))
        return opts[i]
    if kind == "length":
        n = len(L.words(text))
        ranges = _ranges(opts)
        if ranges is None:
            by_word = {L.length_of_label(o): i for i, o in enumerate(opts)}
            bounds = {"short": (0, 40), "medium": (40, 80), "long": (80, math.inf)}
            ranges = [bounds.get(L.length_of_label(o) or "", (math.inf, math.inf)) for o in opts]
            del by_word
        hits = [i for i, (lo, hi) in enumerate(ranges) if lo <= n <= hi]
        i = hits[0] if hits else min(range(len(opts)), key=lambda j: min(abs(n - ranges[j][0]), abs(n - ranges[j][1])))
        near = any(abs(n - b) <= 4 for lo, hi in ranges for b in (lo, hi) if math.isfinite(b) and b > 0)
        if rng.random() < (0.3 if near else 0.03):
            i = max(0, min(len(opts) - 1, i + rng.choice([-1, 1])))
        return opts[i]
    scores = []
    words = Counter(L.words(text))
    gscores = genre_scores(text)
    for o in opts:
        g = L.genre_of_label(o)
        scores.append(gscores[g] if g else sum(words[w] for w in L.words(o) if len(w) > 3))
    best = max(range(len(opts)), key=lambda i: (scores[i], -i))
    if rng.random() < 0.08 or not any(scores):
        best = rng.randrange(len(opts)) if not any(scores) or rng.random() < 0.5 else best
    return opts[best]


# -- quality --------------------------------------------------------------------------------
def scale(instr: str) -> tuple[float, float]:
    m = re.search(r"(?:from|between)?\s*(\d+)\s*(?:\([^)]*\)\s*)?(?:-|–|to|and|\.\.)\s*(\d+)", instr)
    if m and float(m.group(2)) > float(m.group(1)) and float(m.group(2)) in (1, 5, 7, 10, 100):
        return float(m.group(1)), float(m.group(2))
    m = re.search(r"out of (\d+)", instr)
    if m:
        return 0.0, float(m.group(1))
    return 0.0, 10.0


def rate_quality(text: str, instr: str, rng: random.Random) -> tuple[float, bool]:
    """(score on the request's scale, whether rules were read from the request)."""
    obj, mention = R.object_phrase(instr)
    cap = R.word_cap(instr)
    checks: list[bool] = []
    if obj and mention:
        head = obj.split()[-1]
        checks.append(any(w.rstrip("s'") == head or w == head for w in L.words(text)))
    if cap:
        checks.append(0 < len(L.words(text)) <= cap)
    stated = bool(checks) or R.wants_complete(instr) or R.wants_no_repeat(instr)
    stripped = text.strip().rstrip("\"'")
    checks.append(stripped[-1:] in (".", "!", "?"))
    ss = [s.lower() for s in sentences(text)]
    checks.append(len(ss) == len(set(ss)))
    share = sum(checks) / len(checks)
    lo, hi = scale(instr)
    value = lo + share * (hi - lo)
    if rng.random() < 0.25:
        value += rng.choice([-1, 1]) * (hi - lo) / 10
    return max(lo, min(hi, round(value, 1))), stated


# -- similarity ------------------------------------------------------------------------------
_SMALL = {"the", "a", "an", "and", "of", "in", "to", "it", "all", "as", "at", "by", "such", "had", "that",
          "through", "while", "near", "beside", "again", "ever", "felt", "find", "seen", "nobody"}


def _bag(text: str) -> Counter[str]:
    return Counter(w for w in L.words(text) if w not in _SMALL)


def _cos(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[w] * b[w] for w in a)
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def more_similar(anchor: str, first: str, second: str, rng: random.Random) -> int:
    """0 when `first` is more like `anchor`, 1 when `second` is (noisy)."""
    a = _bag(anchor)
    s1, s2 = _cos(a, _bag(first)), _cos(a, _bag(second))
    pick = 0 if s1 >= s2 else 1
    if rng.random() < 0.1:
        pick = 1 - pick
    return pick
