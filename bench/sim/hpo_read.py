"""What the sim reads in a hyperparameter request: the space, the scored history, the
unscored candidates, how many configurations are wanted and the target score.

Nothing here knows our prompts. The space is read from JSON (a dict of dimension
specs, or a list of `{"name": ...}` specs) or from lines that name a dimension and
give a range (`[a, b]`, `between a and b`, `from a to b`, `a..b`) or choices
(`one of [x, y]`, `{x, y}`, `options: x, y`), with kind words (int/integer,
float/real/continuous) and log-scale hints; markdown table rows count as lines.
Configurations are JSON objects naming the dimensions (a score inside, in a wrapper
object, or on the same line after or before it), `name=value` / `name: value`
lines with a score, or rows of a table whose header names the dimensions. When no
space is written out, one is inferred from the configurations shown.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
SCORE_WORDS = ("score", "accuracy", "acc", "value", "result", "objective", "metric", "reward",
               "performance", "fitness", "y", "f1", "auc", "return", "outcome")
_SCORE_RE = "|".join(sorted(SCORE_WORDS, key=len, reverse=True))
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "twelve": 12, "a couple of": 2, "a few": 3, "several": 4}


@dataclass
class SpaceDim:
    """One dimension as read: kind int/float/choice, range or choices, log hint."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    choices: list[Any] = field(default_factory=list)
    log: bool = False

    def unit(self, x: Any) -> float:
        """`x` as a fraction of the range, on its scale (numeric dimensions)."""
        x = float(x)
        if self.log and self.low > 0 and x > 0:
            lo, hi, x = math.log(self.low), math.log(self.high), math.log(x)
        else:
            lo, hi = self.low, self.high
        return 0.0 if hi <= lo else min(1.5, max(-0.5, (x - lo) / (hi - lo)))

    def value(self, u: float) -> Any:
        """The value at fraction `u` (clipped to the range; ints rounded)."""
        u = min(1.0, max(0.0, u))
        if self.log and self.low > 0:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        if self.kind == "int":
            return int(min(self.high, max(self.low, round(x))))
        return float(f"{min(self.high, max(self.low, x)):.4g}")


@dataclass
class HPORequest:
    """Everything read from one request."""

    dims: list[SpaceDim]
    history: list[tuple[dict[str, Any], float]]
    candidates: list[dict[str, Any]]
    n_wanted: int | None
    target: float | None


# -- JSON ---------------------------------------------------------------------------------
def json_spans(text: str) -> list[tuple[int, int, Any]]:
    """(start, end, value) of every top-level JSON object or array in `text`."""
    decoder = json.JSONDecoder()
    out, i = [], 0
    while i < len(text):
        if text[i] in "[{":
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            out.append((i, end, value))
            i = end
        else:
            i += 1
    return out


def _number(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)) and math.isfinite(float(x)):
        return float(x)
    if isinstance(x, str) and re.fullmatch(rf"\s*{NUM}\s*", x):
        return float(x)
    return None


# -- the space ----------------------------------------------------------------------------
def _kind_of(words: str, lo: float, hi: float, raw: str) -> str:
    w = words.lower()
    if re.search(r"\b(int|integer|integers|whole|discrete|count)\b", w):
        return "int"
    if re.search(r"\b(float|real|continuous|decimal|double|number)\b", w):
        return "float"
    return "int" if re.fullmatch(r"[^.eE]*", raw) and lo.is_integer() and hi.is_integer() else "float"


def _dim_from_spec(name: str, spec: Any) -> SpaceDim | None:
    if isinstance(spec, list) and spec:
        nums = [_number(v) for v in spec]
        if len(spec) == 2 and all(n is not None for n in nums):
            lo, hi = sorted(n for n in nums if n is not None)
            return SpaceDim(name, _kind_of("", lo, hi, json.dumps(spec)), lo, hi) if lo < hi else None
        if all(isinstance(v, (str, int, float, bool)) or v is None for v in spec):
            return SpaceDim(name, "choice", choices=list(spec))
        return None
    if not isinstance(spec, dict):
        return None
    low = {str(k).lower(): v for k, v in spec.items()}
    words = " ".join(str(low.get(k, "")) for k in ("type", "kind", "dtype", "distribution", "scale"))
    log = any(low.get(k) is True for k in ("log", "log_scale", "logscale")) or "log" in words.lower()
    for key in ("choices", "options", "values", "categories", "enum"):
        if isinstance(low.get(key), list) and low[key]:
            return SpaceDim(name, "choice", choices=list(low[key]))
    pair = None
    for key in ("range", "bounds", "interval", "domain"):
        if isinstance(low.get(key), list) and len(low[key]) == 2:
            pair = low[key]
    if pair is None:
        lo_v = next((low[k] for k in ("low", "min", "lower", "minimum", "from") if k in low), None)
        hi_v = next((low[k] for k in ("high", "max", "upper", "maximum", "to") if k in low), None)
        pair = [lo_v, hi_v]
    lo, hi = _number(pair[0]), _number(pair[1])
    if lo is None or hi is None or not lo < hi:
        return None
    return SpaceDim(name, _kind_of(words, lo, hi, json.dumps(pair)), lo, hi, log=log and lo > 0)


def _json_space(spans: list[tuple[int, int, Any]]) -> list[SpaceDim]:
    for _, _, value in spans:
        dims: list[SpaceDim] = []
        if isinstance(value, dict):
            inner = next((v for k, v in value.items() if isinstance(v, (dict, list)) and
                          re.search(r"space|param|dimension", str(k), re.I)), None)
            value = inner if inner is not None else value
        if isinstance(value, dict):
            for k, spec in value.items():
                if isinstance(spec, (dict, list)):
                    d = _dim_from_spec(str(k), spec)
                    if d is not None:
                        dims.append(d)
        elif isinstance(value, list):
            for spec in value:
                if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                    d = _dim_from_spec(spec["name"], spec)
                    if d is not None:
                        dims.append(d)
        if dims:
            return dims
    return []


_LINE = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])?\s*[`'\"*]*(?P<name>[A-Za-z_][\w.]*)[`'\"*]*\s*"
                   r"(?:\((?P<paren>[^)]*)\))?\s*(?:[:=\u2208\-\u2013\u2014]|\bin\b|\bis\b)\s*(?P<rest>.*)$")
_BOUNDS = [re.compile(rf"[\[(]\s*({NUM})\s*[,;]\s*({NUM})\s*[\])]"),
           re.compile(rf"\bbetween\s+({NUM})\s+and\s+({NUM})", re.I),
           re.compile(rf"\bfrom\s+({NUM})\s+(?:to|up to|through)\s+({NUM})", re.I),
           re.compile(rf"({NUM})\s*(?:\.\.\.?|\bto\b)\s*({NUM})", re.I),
           re.compile(rf"\bmin(?:imum)?\s*[:=]?\s*({NUM})\s*[,;]?\s*max(?:imum)?\s*[:=]?\s*({NUM})", re.I)]
_CHOICE_CUE = re.compile(r"\b(one of|choices?|options?|categorical|choose from|pick from|values?|"
                         r"any of|either|categories)\b", re.I)
_LIST = re.compile(r"[\[{(]([^\[\]{}()]*)[\]})]")


def _split_items(body: str) -> list[str]:
    items = [i.strip().strip("'\"`") for i in re.split(r",|\||/|\bor\b", body)]
    return [i for i in items if i]


def _parse_choice(raw: str) -> Any:
    n = _number(raw)
    if n is not None:
        return int(n) if re.fullmatch(r"\s*[-+]?\d+\s*", raw) else n
    return {"true": True, "false": False, "none": None, "null": None}.get(raw.lower(), raw)


def _line_dim(line: str) -> SpaceDim | None:
    if line.lstrip().startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not re.fullmatch(r"[`*]*[A-Za-z_][\w.]*[`*]*", cells[0]):
            return None
        name, paren, rest = cells[0].strip("`*"), "", " | ".join(cells[1:])
    else:
        m = _LINE.match(line)
        if m is None or "{" in line.split(":")[0]:
            return None
        name, paren, rest = m.group("name"), m.group("paren") or "", m.group("rest")
    body = f"{paren} {rest}"
    log = bool(re.search(r"\blog", body, re.I))
    if _CHOICE_CUE.search(body) or not any(b.search(body) for b in _BOUNDS):
        lists = _LIST.findall(body)
        items = _split_items(lists[-1]) if lists else []
        if not items and _CHOICE_CUE.search(body):
            after = _CHOICE_CUE.split(body)[-1]
            items = _split_items(after.strip(" :.-"))
        if len(items) >= 2 and (_CHOICE_CUE.search(body) or any(_number(i) is None for i in items)):
            if all(re.fullmatch(r"[\w.+\-]+", i) for i in items):
                return SpaceDim(name, "choice", choices=[_parse_choice(i) for i in items])
    for pattern in _BOUNDS:
        b = pattern.search(body)
        if b:
            lo, hi = float(b.group(1)), float(b.group(2))
            if lo < hi:
                kind = _kind_of(body, lo, hi, b.group(1) + b.group(2))
                return SpaceDim(name, kind, lo, hi, log=log and lo > 0)
    return None


def read_space(text: str, spans: list[tuple[int, int, Any]]) -> list[SpaceDim]:
    """The dimensions the request describes (JSON specs first, then lines)."""
    dims = _json_space(spans)
    if dims:
        return dims
    seen: dict[str, SpaceDim] = {}
    for line in text.splitlines():
        if line.strip().startswith(("{", "[")) or re.search(r"[{}]\s*\"", line):
            continue
        d = _line_dim(line)
        if d is not None and d.name.lower() not in seen and d.name.lower() not in SCORE_WORDS:
            seen[d.name.lower()] = d
    return list(seen.values())


# -- configurations -------------------------------------------------------------------------
def _score_in(obj: dict[str, Any], names: set[str]) -> float | None:
    for k, v in obj.items():
        key = str(k).lower().strip()
        if key not in names and re.fullmatch(rf"(?:\w+[_ ])?(?:{_SCORE_RE})(?:[_ ]\w+)?", key):
            n = _number(v)
            if n is not None:
                return n
    return None


def _configs_in(value: Any, names: set[str], outer: float | None) -> list[tuple[dict[str, Any], float | None]]:
    found = []
    if isinstance(value, dict):
        keys = {str(k).lower() for k in value}
        own = _score_in(value, names)
        if names and len(keys & names) * 2 >= len(names):
            config = {k: v for k, v in value.items() if str(k).lower() in names}
            return [(config, own if own is not None else outer)]
        for v in value.values():
            found += _configs_in(v, names, own if own is not None else outer)
    elif isinstance(value, list):
        for v in value:
            found += _configs_in(v, names, None)
    return found


def _score_near(text: str, start: int, end: int) -> float | None:
    """A score written on the same line as a JSON config: after it, or labelled before it."""
    line_end = text.find("\n", end)
    after = text[end: line_end if line_end >= 0 else len(text)]
    m = re.match(rf"[^\w\n]{{0,8}}?(?:[A-Za-z_][A-Za-z_ ]{{0,30}}?\s*(?:was|is|of|=|:)?\s*)?({NUM})",
                 after.strip(), re.I)
    if m:
        return float(m.group(1))
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    m = re.search(rf"[A-Za-z_]*(?:{_SCORE_RE})\w*\s*(?:was|is|of|=|:)?\s*({NUM})", before, re.I)
    return float(m.group(1)) if m else None


def _kv_line(line: str, names: list[str]) -> tuple[dict[str, Any], float | None] | None:
    config = {}
    for name in names:
        m = re.search(rf"(?<![\w.]){re.escape(name)}\s*[:=]\s*['\"]?([\w.+\-]+)", line, re.I)
        if m:
            config[name] = m.group(1)
    if not names or len(config) * 2 < len(names):
        return None
    rest = line
    for name in names:
        rest = re.sub(rf"(?<![\w.]){re.escape(name)}\s*[:=]\s*['\"]?[\w.+\-]+", " ", rest, flags=re.I)
    m = re.search(rf"[A-Za-z_]*(?:{_SCORE_RE})\w*\s*(?:was|is|of|=|:)?\s*({NUM})", rest, re.I) or \
        re.search(rf"(?:->|=>|\u2192|:|\|)\s*({NUM})\s*\W*$", rest)
    return config, (float(m.group(1)) if m else None)


def _table_rows(text: str, names: list[str]) -> list[tuple[int, dict[str, Any], float | None]]:
    rows: list[tuple[int, dict[str, Any], float | None]] = []
    header: list[str] | None = None
    for n, line in enumerate(text.splitlines()):
        if "|" not in line and "\t" not in line:
            header = None
            continue
        cells = [c.strip().strip("`*") for c in re.split(r"\||\t", line.strip().strip("|"))]
        lowered = [c.lower() for c in cells]
        if sum(n.lower() in lowered for n in names) * 2 >= max(len(names), 1):
            header = lowered
            continue
        if header is None or set(line.strip()) <= set("|-: \t"):
            continue
        config, score = {}, None
        for h, c in zip(header, cells, strict=False):
            match = next((n for n in names if n.lower() == h), None)
            if match is not None:
                config[match] = c
            elif re.search(_SCORE_RE, h) and _number(c) is not None:
                score = float(c)
        if len(config) * 2 >= len(names):
            rows.append((n, config, score))
    return rows


def _normalise(config: dict[str, Any], dims: list[SpaceDim]) -> dict[str, Any] | None:
    out = {}
    lowered = {str(k).lower(): v for k, v in config.items()}
    for d in dims:
        raw = lowered.get(d.name.lower())
        if raw is None:
            return None
        if d.kind == "choice":
            match = next((c for c in d.choices if str(c).lower() == str(raw).strip().lower()), None)
            if match is None and raw not in d.choices:
                return None
            out[d.name] = match if match is not None else raw
        else:
            n = _number(raw)
            if n is None:
                return None
            out[d.name] = int(round(n)) if d.kind == "int" else n
    return out


def _infer_space(configs: list[dict[str, Any]]) -> list[SpaceDim]:
    dims = []
    keys = [k for k in configs[0] if all(k in c for c in configs)] if configs else []
    for k in keys:
        values = [c[k] for c in configs]
        nums = [_number(v) for v in values]
        if all(n is not None for n in nums):
            xs = [n for n in nums if n is not None]
            lo, hi = min(xs), max(xs)
            pad = (hi - lo) * 0.5 or max(abs(hi), 1.0)
            kind = "int" if all(float(x).is_integer() for x in xs) else "float"
            dims.append(SpaceDim(str(k), kind, max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad))
        else:
            dims.append(SpaceDim(str(k), "choice", choices=list(dict.fromkeys(map(str, values)))))
    return dims


def read_request(text: str) -> HPORequest:
    """Space, history, candidates, wanted count and target score of `text`."""
    spans = json_spans(text)
    dims = read_space(text, spans)
    names = {d.name.lower() for d in dims}
    found: list[tuple[int, dict[str, Any], float | None]] = []   # (line, config, score)
    if not names:  # no written space: the keys the shown objects share
        objs = [v for _, _, v in spans if isinstance(v, dict)]
        objs += [o for _, _, v in spans if isinstance(v, list) for o in v if isinstance(o, dict)]
        names = _guess_names(objs)
    for start, end, value in spans:
        for config, score in _configs_in(value, names, None):
            if score is None and isinstance(value, dict):
                score = _score_near(text, start, end)
            found.append((text.count("\n", 0, start), config, score))
    # the rest of the text, JSON blanked out (lines kept): tables and name=value lines
    rest = list(text)
    for start, end, _ in spans:
        for i in range(start, end):
            if rest[i] != "\n":
                rest[i] = " "
    plain = [d.name for d in dims]
    rows = _table_rows("".join(rest), plain)
    found += rows
    used = {line for line, _, _ in rows}
    for n, line in enumerate("".join(rest).splitlines()):
        if n in used or (_line_dim(line) is not None and
                         not re.search(rf"(?:{_SCORE_RE})\w*\s*[:=]?\s*{NUM}", line, re.I)):
            continue
        got = _kv_line(line, plain)
        if got is not None:
            found.append((n, *got))
    found.sort(key=lambda f: f[0])
    raw = [(config, score) for _, config, score in found]
    if not dims and raw:
        dims = _infer_space([c for c, _ in raw])
    history, candidates = [], []
    for config, score in raw:
        norm = _normalise(config, dims)
        if norm is None:
            continue
        if score is None:
            candidates.append(norm)
        else:
            history.append((norm, score))
    return HPORequest(dims, history, candidates, wanted_count(text), target_score(text))


def _guess_names(value: Any) -> set[str]:
    """Without a written space: the keys shared by the objects of a list of configurations."""
    objs = [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
    if len(objs) < 2:
        return set()
    inner = [v for o in objs for v in o.values() if isinstance(v, dict)]
    if len(inner) >= 2:  # wrappers such as {"config": {...}, "score": 0.9}: the inner objects
        objs = inner
    shared = set.intersection(*({str(k).lower() for k, v in o.items() if not isinstance(v, (dict, list))}
                                for o in objs))
    return {k for k in shared if not re.fullmatch(rf"(?:\w+[_ ])?(?:{_SCORE_RE})(?:[_ ]\w+)?", k)}


_THINGS = r"(?:configurations?|configs?|settings?|points?|candidates?|trials?|suggestions?|proposals?|combinations?)"


def wanted_count(text: str) -> int | None:
    """How many configurations the request asks for ("propose 5 new configurations")."""
    words = "|".join(sorted(_WORDS, key=len, reverse=True))
    m = re.search(rf"\b(\d+|{words})[ \t]+(?:[\w,-]+[ \t]+){{0,4}}?{_THINGS}\b", text, re.I)
    if not m:
        return None
    raw = m.group(1).lower()
    n = int(raw) if raw.isdigit() else _WORDS[raw]
    return max(1, min(n, 30))


def target_score(text: str) -> float | None:
    """The score a request asks proposals to reach, if it names one."""
    m = re.search(rf"\b(?:target|goal|aim|reach|achieve|attain|hit|exceed|beat|score of at least)\w*\b"
                  rf"[^\d\n]{{0,50}}?({NUM})", text, re.I)
    return float(m.group(1)) if m else None
