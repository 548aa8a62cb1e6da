"""Word lists: tone words with a sign, genres with their names and cue words, length words."""

from __future__ import annotations

import re

POSITIVE = ("cheerful", "happy", "joyful", "joy", "delight", "delighted", "bright", "sunny", "warm",
            "laughed", "laughter", "smiled", "smile", "hopeful", "glad", "merry", "jolly", "upbeat",
            "lighthearted", "playful", "celebrated", "cheered", "grinned", "giggled", "sparkling",
            "wonderful", "elated", "radiant", "happiness", "sunlit")
NEGATIVE = ("gloomy", "gloom", "sad", "sorrow", "sorrowful", "grim", "bleak", "dreary", "despair",
            "lonely", "grief", "mourned", "wept", "tears", "melancholy", "somber", "sombre", "bitter",
            "hopeless", "dismal", "weary", "mournful", "miserable", "desolate", "forlorn", "sadness",
            "gray", "grey", "depressing", "downcast")
NEUTRAL_WORDS = ("neutral", "even", "balanced", "matter-of-fact", "plain", "calm", "mixed", "flat",
                 "moderate", "middle")
#: Tone adjectives the writer uses (subsets of the lists above).
POSITIVE_ADJ = ("cheerful", "happy", "joyful", "bright", "sunny", "warm", "hopeful", "glad", "merry", "jolly",
                "upbeat", "lighthearted", "playful", "wonderful", "elated", "radiant")
NEGATIVE_ADJ = ("gloomy", "sad", "sorrowful", "grim", "bleak", "dreary", "lonely", "melancholy", "somber",
                "bitter", "hopeless", "dismal", "weary", "mournful", "miserable", "desolate", "forlorn")
INTENSIFIERS = ("very", "extremely", "deeply", "utterly", "intensely", "really", "highly", "overwhelmingly")
SOFTENERS = ("slightly", "somewhat", "a bit", "mildly", "a little")

GENRES: dict[str, dict[str, tuple[str, ...]]] = {
    "science fiction": {
        "names": ("science fiction", "sci-fi", "scifi", "sf", "space opera", "futuristic", "cyberpunk"),
        "cues": ("starship", "android", "orbit", "galaxy", "laser", "robot", "colony", "quantum",
                 "hologram", "asteroid", "spacecraft", "airlock", "cyborg", "reactor", "planet")},
    "mystery": {
        "names": ("mystery", "detective", "whodunit", "crime", "noir", "sleuth"),
        "cues": ("detective", "clue", "suspect", "alibi", "culprit", "inspector", "footprints",
                 "magnifier", "case", "witness", "motive", "fingerprint", "investigation", "riddle", "ledger")},
    "romance": {
        "names": ("romance", "romantic", "love story", "love"),
        "cues": ("love", "beloved", "kiss", "heart", "sweetheart", "wedding", "bouquet", "embrace",
                 "darling", "courtship", "lovers", "romance", "proposal", "valentine", "ballroom")},
    "fantasy": {
        "names": ("fantasy", "fairy tale", "fairytale", "magical", "myth", "sword and sorcery", "high fantasy"),
        "cues": ("dragon", "wizard", "spell", "wand", "kingdom", "elf", "sorceress", "quest",
                 "rune", "castle", "potion", "unicorn", "goblin", "prophecy", "amulet")},
    "horror": {
        "names": ("horror", "scary", "ghost story", "terrifying", "creepy", "gothic horror", "spooky"),
        "cues": ("ghost", "graveyard", "scream", "blood", "creature", "crypt", "corpse", "nightmare",
                 "terror", "phantom", "coffin", "skull", "banshee", "monster", "cellar")},
}

LENGTH_WORDS = {
    "short": ("short", "brief", "tiny", "flash", "shorter", "very short", "compact"),
    "medium": ("medium", "moderate", "mid-length", "midsize", "average length", "medium-length"),
    "long": ("long", "lengthy", "extended", "longer", "very long", "longest", "long-form"),
}

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def has_phrase(text: str, phrase: str) -> bool:
    """Whole-word (or whole-phrase) match, case-insensitive."""
    return re.search(rf"(?<![\w-]){re.escape(phrase.lower())}(?![\w-])", text.lower()) is not None


def tone_counts(text: str) -> tuple[int, int]:
    ws = words(text)
    pos = set(POSITIVE)
    neg = set(NEGATIVE)
    return sum(w in pos for w in ws), sum(w in neg for w in ws)


def label_sentiment(label: str) -> float | None:
    """The sentiment a label names (-2..2), or None when it names none (for ordered tone axes)."""
    low = label.lower()
    if any(has_phrase(low, w) for w in NEUTRAL_WORDS):
        base = 0.0
    else:
        pos, neg = tone_counts(low)
        if pos == neg:
            return None
        base = 1.0 if pos > neg else -1.0
    if any(has_phrase(low, w) for w in INTENSIFIERS):
        base *= 2.0
    elif any(has_phrase(low, w) for w in SOFTENERS):
        base *= 0.5
    return base


def genre_of_label(label: str) -> str | None:
    """The known genre a label names (by any of its names), or None."""
    low = label.lower()
    best = None
    for genre, info in GENRES.items():
        for name in info["names"]:
            if has_phrase(low, name) and (best is None or len(name) > best[1]):
                best = (genre, len(name))
    return best[0] if best else None


def length_of_label(label: str) -> str | None:
    """short / medium / long when the label says so."""
    low = label.lower()
    found = [(cls, len(w)) for cls, ws in LENGTH_WORDS.items() for w in ws if has_phrase(low, w)]
    return max(found, key=lambda f: f[1])[0] if found else None
