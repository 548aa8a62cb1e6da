"""Reading an optimizer reply: the JSON object, the suggestion map, names and values.

An LLM reply is untrusted text. Everything here either returns clean data or says,
in one sentence, what was wrong; nothing here touches a parameter. Three steps:

1. `parse_reply(text)` finds the JSON object (bare, fenced, or inside prose; strict
   JSON first, then the near-JSON models write: raw newlines in strings, trailing
   commas, single quotes, Python literals) and its "reasoning" and "suggestion" (a
   map from variable name to new value). Linear time, bounded nesting.
2. `match_name(key, names)` maps a suggested key to a variable: case, spaces, a `#`
   or `(kind)` prefix, quotes, and a trailing index (`x` for `x0`) are tolerated.
3. `coerce(param, raw)` (from `undertow.engine.convention`) turns the raw value into one of the parameter's kind:
   "3" -> 3 for an int, "[1, 2]" -> [1, 2] for json, never a list of characters, and
   never a silent float -> int truncation ("2.5" for an int is refused, with why).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from undertow.engine.convention import CoerceError, coerce
from undertow.optimizers.opto.lenient import LenientError, read_value, scan_objects

__all__ = ["ParsedReply", "SuggestionError", "coerce", "find_json_object", "match_name",
           "normalize_name", "parse_reply"]

#: Keys that hold the map of new values (compared case-insensitively).
SUGGESTION_KEYS = ("suggestion", "suggestions", "update", "updates", "new_values", "changes",
                   "variables", "proposal")
#: Keys that hold the model's reasoning; never read as variables.
REASONING_KEYS = ("reasoning", "reason", "rationale", "analysis", "thoughts", "thinking",
                  "explanation", "answer")

#: Fenced blocks tried as candidates (a reply has one or two; more is noise).
MAX_FENCES = 16
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n(.*?)```", re.DOTALL)


#: A suggested value or name that cannot be used; the message says why (the same error
#: as `coerce`, which lives with the request convention in `undertow.engine.convention`).
SuggestionError = CoerceError


@dataclass
class ParsedReply:
    """What a reply says: its reasoning, the suggested values by key, or why it is unusable.

    `error` is set when the reply is not usable at all (not JSON, suggestion not a map);
    then `suggestion` is empty. An empty `suggestion` without `error` means
    "nothing to change".
    """

    reasoning: str = ""
    suggestion: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _strict(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # deep nesting is refused, never raised
        return None


def _lenient_whole(text: str) -> Any:
    try:
        obj, end = read_value(text)
    except LenientError:
        return None
    return obj if not text[end:].strip() else None


def _useful(obj: dict[str, Any]) -> bool:
    keys = {str(k).strip().lower() for k in obj}
    return bool(keys & set(SUGGESTION_KEYS)) or bool(keys & set(REASONING_KEYS))


def find_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in `text`, read in order of strictness.

    1. strict JSON: the whole text, then each fenced block (the first `MAX_FENCES`);
    2. lenient JSON (raw newlines and tabs in strings, trailing commas, single or
       triple quotes, Python literals, bare keys; see `lenient.py`): the whole text,
       then each fenced block;
    3. the objects found in prose, preferring one with a suggestion or reasoning key.

    Linear in the length of the text, and nesting is bounded: adversarial input
    fails fast instead of raising RecursionError.
    """
    stripped = text.strip()
    obj = _strict(stripped)  # the usual reply: nothing else to look for
    if isinstance(obj, dict):
        return obj
    fences = [m.group(1).strip() for m, _ in zip(_FENCE.finditer(text), range(MAX_FENCES))]
    for reader, candidates in ((_strict, fences), (_lenient_whole, [stripped, *fences])):
        for candidate in candidates:
            obj = reader(candidate)
            if isinstance(obj, dict):
                return obj
    first: dict[str, Any] | None = None
    for obj, _, _ in scan_objects(text):
        if _useful(obj):
            return obj
        first = first if first is not None else obj
    return first


def parse_reply(text: str) -> ParsedReply:
    """Read a reply; never raises. See `ParsedReply` for the three possible outcomes."""
    if not isinstance(text, str):
        return ParsedReply(error=f"the reply is a {type(text).__name__}, not text")
    obj = find_json_object(text)
    if obj is None:
        return ParsedReply(error="the reply holds no JSON object; expected "
                                 '{"reasoning": ..., "suggestion": {name: value}}')
    lowered = {str(k).strip().lower(): k for k in obj}
    reasoning = next((obj[lowered[k]] for k in REASONING_KEYS if k in lowered), "")
    reasoning = reasoning if isinstance(reasoning, str) else json.dumps(reasoning, default=str)
    key = next((lowered[k] for k in SUGGESTION_KEYS if k in lowered), None)
    if key is None:  # no map key: the other top-level keys may be variable names
        rest = {str(k): v for k, v in obj.items() if str(k).strip().lower() not in REASONING_KEYS}
        return ParsedReply(reasoning, rest)
    raw = obj[key]
    if raw is None or raw == "" or raw == [] or raw == {}:
        return ParsedReply(reasoning, {})
    if isinstance(raw, str):
        inner = find_json_object(raw)
        if inner is None:
            return ParsedReply(reasoning, error=f"the {key!r} value is a string, not a map "
                                                "from variable name to new value")
        raw = inner
    if not isinstance(raw, dict):
        return ParsedReply(reasoning, error=f"the {key!r} value is a {type(raw).__name__}, "
                                            "not a map from variable name to new value")
    return ParsedReply(reasoning, {str(k): v for k, v in raw.items()})


def normalize_name(key: str) -> str:
    """A comparable form of a variable name: no quotes, `#`, `(kind)` prefix, case or spaces."""
    k = key.strip().strip("\"'`").strip()
    k = re.sub(r"^#+\s*", "", k)
    k = re.sub(r"^\(\w+\)\s*", "", k)
    k = re.sub(r"^<variable\s+name=[\"']?([^\"'>\s]+)[\"']?[^>]*>$", r"\1", k, flags=re.IGNORECASE)
    return re.sub(r"[\s\-]+", "_", k).lower()


def _stem(name: str) -> str:
    """`x0`, `x_0`, `x:0`, `x#1` and `x.code` (trainable code of `x`) all have the stem `x`."""
    name = re.sub(r"[._]code$", "", name) or name
    return re.sub(r"[_:#]?\d+$", "", name) or name


def match_name(key: str, names: Iterable[str]) -> str:
    """The variable `key` refers to, out of `names`; `SuggestionError` if none or several."""
    if isinstance(names, (Mapping, AbstractSet)) and key in names:  # the usual case, O(1)
        return key
    names = list(names)
    norm = normalize_name(key)
    exact = [n for n in names if n == key]
    if exact:
        return exact[0]
    same = [n for n in names if normalize_name(n) == norm]
    if len(same) == 1:
        return same[0]
    if not same:
        same = [n for n in names if _stem(normalize_name(n)) == _stem(norm)]
        if len(same) == 1:
            return same[0]
    if same:
        raise SuggestionError(f"the key {key!r} matches several variables ({', '.join(same)}); "
                              "use the exact name")
    raise SuggestionError(f"the key {key!r} names no variable; use one of: {', '.join(names)}")
