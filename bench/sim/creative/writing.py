"""How the simulated writer writes: a story about an object, in a tone, genre and length.

It reads what is asked (`Ask`: the object, a word cap, the rules stated, the tone/genre/
length named in the instruction, the source texts to rewrite or combine), decides the
attributes of the new text and composes it from word lists. Like a real model it is
imperfect, with seeded noise:

- a requested attribute is followed with probability 0.8 (else tone/length land one
  step off, genre stays the source's or the default);
- with nothing requested it keeps a source text's attributes (a "variation" changes one
  or two of them), and with no source it shows *mode collapse*: most stories are
  neutral, medium-length fantasy, as repeated samples of one prompt from real models
  are alike;
- each rule is broken now and then, less often when the request states the rule
  (better evidence, better text): mention 0.05 vs 0.3, cap 0.03 vs 0.2, complete
  sentence 0.03 vs 0.15, repetition 0.03 vs 0.15.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from . import lexicon as L
from . import reading as R

TONES = (-2, -1, 0, 1, 2)
LENGTHS = ("short", "medium", "long")
LENGTH_RANGE = {"short": (18, 36), "medium": (45, 75), "long": (86, 112)}
PRIOR_TONE = (0.04, 0.08, 0.6, 0.2, 0.08)
PRIOR_GENRE = {"fantasy": 0.55, "mystery": 0.2, "science fiction": 0.1, "romance": 0.1, "horror": 0.05}
PRIOR_LENGTH = (0.2, 0.65, 0.15)
_VARY = re.compile(r"\b(?:differ\w*|variation|vary|varied|different|change|fresh|novel|new take)\b", re.IGNORECASE)
_COMBINE = re.compile(r"\b(?:combine|merge|blend|mix|cross|fuse|splice)\w*\b", re.IGNORECASE)


@dataclass
class Attributes:
    tone: int = 0
    genre: str = "fantasy"
    length: str = "medium"


@dataclass
class Ask:
    """What a writing request asks for."""

    obj: str | None
    must_mention: bool
    cap: int | None
    complete: bool
    no_repeat: bool
    tone: int | None = None
    genre: str | None = None
    length: str | None = None
    sources: list[str] = field(default_factory=list)
    vary: bool = False
    combine: bool = False


def read_tone(instr: str) -> int | None:
    """The tone level an instruction names (-2..2), or None."""
    best: tuple[int, float] | None = None
    low = instr.lower()
    for m in re.finditer(r"(?:(very|extremely|deeply|utterly|intensely|really|highly|slightly|somewhat|mildly)\s+)?"
                         r"([a-z-]+)", low):
        w = m.group(2)
        if w in L.POSITIVE or w in L.NEGATIVE or (w == "neutral"):
            value = L.label_sentiment(m.group(0))
            if value is not None:
                best = (m.start(), value)    # the last one named wins (targets follow descriptions)
    if best is None:
        return None
    return int(max(-2, min(2, round(best[1]))))


def read_genre(instr: str) -> str | None:
    found = [(m.start(), g) for g, info in L.GENRES.items() for n in info["names"]
             for m in re.finditer(rf"(?<![\w-]){re.escape(n)}(?![\w-])", instr.lower())
             if n != "love" or "love story" in instr.lower()]
    return max(found)[1] if found else None


def read_length(instr: str) -> str | None:
    low = re.sub(r"no longer than|as long as|how long|so long as|longer than|shorter than", " ", instr.lower())
    found = [(m.start(), cls) for cls, ws in L.LENGTH_WORDS.items() for w in ws
             for m in re.finditer(rf"(?<![\w-]){re.escape(w)}(?![\w-])", low)]
    return max(found)[1] if found else None


def read_ask(text: str) -> Ask:
    """The writing request in `text` (every message joined)."""
    ps = R.passages(text)
    instr = R.instructions(text)
    obj, mention = R.object_phrase(instr)
    return Ask(obj=obj, must_mention=mention, cap=R.word_cap(instr), complete=R.wants_complete(instr),
               no_repeat=R.wants_no_repeat(instr), tone=read_tone(instr), genre=read_genre(instr),
               length=read_length(instr), sources=[p.body for p in ps],
               vary=bool(_VARY.search(instr)), combine=bool(_COMBINE.search(instr)) and len(ps) > 1)


def attributes_of(text: str) -> Attributes:
    """The writer's own reading of a source text (the same cues the raters use)."""
    from .judging import genre_scores, length_class, tone_value

    scores = genre_scores(text)
    genre = max(scores, key=lambda g: (scores[g], -list(L.GENRES).index(g))) if any(scores.values()) else "fantasy"
    return Attributes(tone=int(max(-2, min(2, round(tone_value(text))))), genre=genre, length=length_class(text))


def _weighted(rng: random.Random, items: list, weights: list[float]):  # noqa: ANN001, ANN202
    return rng.choices(items, weights=weights, k=1)[0]


def choose(ask: Ask, rng: random.Random) -> Attributes:
    """The attributes of the text to write (see the module docstring)."""
    if ask.sources:
        parents = [attributes_of(s) for s in ask.sources]
        if ask.combine:
            base = Attributes(rng.choice(parents).tone, rng.choice(parents).genre, rng.choice(parents).length)
        else:
            base = parents[0]
        if ask.vary and ask.tone is None and ask.genre is None and ask.length is None:
            for what in rng.sample(["tone", "genre", "length"], rng.choice([1, 1, 2])):
                if what == "tone":
                    base.tone = max(-2, min(2, base.tone + rng.choice([-2, -1, 1, 2])))
                elif what == "genre":
                    base.genre = rng.choice([g for g in L.GENRES if g != base.genre])
                else:
                    base.length = rng.choice([x for x in LENGTHS if x != base.length])
    else:
        base = Attributes(_weighted(rng, list(TONES), list(PRIOR_TONE)),
                          _weighted(rng, list(PRIOR_GENRE), list(PRIOR_GENRE.values())),
                          _weighted(rng, list(LENGTHS), list(PRIOR_LENGTH)))
    if ask.tone is not None:
        base.tone = ask.tone if rng.random() < 0.8 else max(-2, min(2, ask.tone + rng.choice([-1, 1])))
    if ask.genre is not None and rng.random() < 0.8:
        base.genre = ask.genre
    if ask.length is not None:
        i = LENGTHS.index(ask.length)
        base.length = ask.length if rng.random() < 0.8 else LENGTHS[max(0, min(2, i + rng.choice([-1, 1])))]
    return base


_NAMES = ("Mara", "Tobias", "Ines", "Oskar", "Lena", "Ravi", "Hana", "Felix", "Nora", "Jonah", "Aiko", "Sol")
_VERBS = ("waited", "flickered", "rested", "lay", "hung", "glinted", "stood", "shifted", "turned", "hummed")
_ACTS = ("walked", "searched", "listened", "whispered", "paused", "returned", "climbed", "wandered", "knelt", "looked")
_PLACES = ("the hallway", "the harbor", "the attic", "the square", "the tower", "the station", "the garden",
           "the bridge", "the market", "the shore", "the library", "the cellar stairs")
_TIMES = ("that night", "at dawn", "before the storm", "after the bells", "all winter", "by noon", "at dusk")


def _an(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _tone_words(level: int, rng: random.Random) -> list[str]:
    if level == 0:
        return []
    bank = L.POSITIVE_ADJ if level > 0 else L.NEGATIVE_ADJ
    return rng.sample(bank, abs(level))


def _sentence(attrs: Attributes, rng: random.Random, obj: str | None, first: bool) -> str:
    cues = L.GENRES[attrs.genre]["cues"]
    cue = rng.choice(cues)
    tone = _tone_words(attrs.tone, rng)
    name = rng.choice(_NAMES)
    if first and obj:
        core = f"The {obj} {rng.choice(_VERBS)} near the {cue} in {rng.choice(_PLACES)} {rng.choice(_TIMES)}"
    else:
        form = rng.randrange(4)
        if form == 0:
            core = f"{name} {rng.choice(_ACTS)} through {rng.choice(_PLACES)} to find the {cue}"
        elif form == 1:
            core = f"Nobody in {rng.choice(_PLACES)} had seen {_an(cue)} {cue} {rng.choice(_TIMES)}"
        elif form == 2:
            core = f"{name} {rng.choice(_ACTS)} beside the {cue} and {rng.choice(_ACTS)} again"
        else:
            core = f"The {cue} {rng.choice(_VERBS)} while {name} {rng.choice(_ACTS)} {rng.choice(_TIMES)}"
    if len(tone) == 1:
        core += f", and it all felt {tone[0]}"
    elif len(tone) == 2:
        core += f", {tone[0]} and {tone[1]} as ever"
    return core + "."


def compose(ask: Ask, attrs: Attributes, rng: random.Random) -> str:
    """The text itself: sentences until the length class's word range, then the flaws."""
    lo, hi = LENGTH_RANGE[attrs.length]
    mention = rng.random() >= (0.05 if ask.must_mention else 0.3)
    obj = ask.obj if mention else None
    sentences: list[str] = []
    count = 0
    for _ in range(40):
        s = _sentence(attrs, rng, obj, first=not sentences)
        n = len(s.split())
        if count >= lo and count + n > hi:
            break
        if s in sentences:
            continue
        sentences.append(s)
        count += n
        if count >= hi:
            break
    if ask.obj and obj is None and sentences:  # the object only as an unrelated subject word
        sentences[0] = sentences[0].replace(f"The {ask.obj}", "The thing", 1)
    cap = ask.cap or 120
    if rng.random() < (0.03 if ask.no_repeat else 0.15) and len(sentences) > 1:
        sentences.insert(rng.randrange(1, len(sentences) + 1), rng.choice(sentences))
    if rng.random() < (0.03 if ask.cap else 0.2):
        while sum(len(s.split()) for s in sentences) <= cap + 5:
            sentences.append(_sentence(attrs, rng, None, first=False))
    text = " ".join(sentences)
    if rng.random() < (0.03 if ask.complete else 0.15):
        text = text[:-1] + " and then"
    return text
