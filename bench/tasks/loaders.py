"""Loaders for the real BIG-Bench Hard and GSM8K files, for runs with a real model.

Each loader reads a local copy (`path=`, a file or the folder holding it) or, with no
path, downloads the file from its public GitHub repository into the user cache on
first use and reads it from there afterwards. Downloads are verified (the file must
parse) before they are kept, and written atomically (temp file + rename), so a
killed download never leaves a half file behind. The project never ships these files.

    >>> examples = load_bbh("word_sorting")            # doctest: +SKIP
    >>> gsm = load_gsm8k("test", path="data/gsm8k")    # doctest: +SKIP

Base URLs are pinned to the commits the project was tested against; override them
with `base_url=` or the `UNDERTOW_BBH_URL` / `UNDERTOW_GSM8K_URL` environment
variables (a mirror, or a local `http.server`). The cache folder is
`platformdirs.user_cache_dir("undertow")/data`, or `$UNDERTOW_CACHE_DIR/data`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError
from undertow.bench.tasks.base import Example
from undertow.engine.files import atomic_write_bytes

BBH_TASKS: tuple[str, ...] = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa",
    "dyck_languages", "formal_fallacies", "geometric_shapes", "hyperbaton",
    "logical_deduction_five_objects", "logical_deduction_seven_objects",
    "logical_deduction_three_objects", "movie_recommendation", "multistep_arithmetic_two",
    "navigate", "object_counting", "penguins_in_a_table", "reasoning_about_colored_objects",
    "ruin_names", "salient_translation_error_detection", "snarks", "sports_understanding",
    "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects",
    "web_of_lies", "word_sorting",
)
GSM8K_SPLITS: tuple[str, ...] = ("train", "test", "train_socratic", "test_socratic")

BBH_URL = ("https://raw.githubusercontent.com/suzgunmirac/BIG-Bench-Hard/"
           "9ee07bd481feebf959a6b59d61ea57bdcf30964d/bbh")
GSM8K_URL = ("https://raw.githubusercontent.com/openai/grade-school-math/"
             "3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data")
BBH_URL_ENV, GSM8K_URL_ENV, CACHE_ENV = "UNDERTOW_BBH_URL", "UNDERTOW_GSM8K_URL", "UNDERTOW_CACHE_DIR"


class DataError(ValueError):
    """A data file that cannot be used: malformed, or not what the loader expects."""


class DownloadError(ConnectionError):
    """A data file that could not be fetched from its URL."""


# --- parsing -------------------------------------------------------------------------

class _BBHExample(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    input: str
    target: str


class _BBHFile(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    canary: str | None = None
    examples: list[_BBHExample]


def _example_lines(text: str) -> list[int]:
    """1-based line number where each element of the top-level "examples" array starts."""
    decoder = json.JSONDecoder()
    key = re.search(r'"examples"\s*:\s*\[', text)
    lines: list[int] = []
    if key is None:
        return lines
    pos = key.end()
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return lines
        lines.append(text.count("\n", 0, pos) + 1)
        try:
            pos = decoder.raw_decode(text, pos)[1]
        except json.JSONDecodeError:
            return lines


def parse_bbh(text: str, source: str, task: str = "") -> list[Example]:
    """Examples of a BBH task file (`{"canary", "examples": [{"input", "target"}]}`).

    `source` names the file (or URL) in errors, with the line of the faulty part.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg}); expected a BBH "
                        'task file {"canary": ..., "examples": [{"input", "target"}]}') from exc
    try:
        parsed = _BBHFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        where = ""
        if len(loc) >= 2 and loc[0] == "examples" and isinstance(loc[1], int):
            lines = _example_lines(text)
            line = lines[loc[1]] if loc[1] < len(lines) else "?"
            where = f"{line}: example {loc[1]}"
            if len(loc) > 2:
                where += f", field {loc[2]!r}"
        else:
            where = f"1: field {'.'.join(map(str, loc)) or '(top level)'}"
        raise DataError(f"{source}:{where}: {err['msg'].lower()}; each example needs string "
                        f'"input" and "target"') from exc
    return [Example(input=e.input, target=e.target,
                    meta={"source": "bbh", "task": task, "index": i})
            for i, e in enumerate(parsed.examples)]


def normalize_number(text: str) -> str:
    """A number written as in GSM8K answers ("1,000", "$18", "5.50") in canonical form.

    Integral values lose their decimals ("5.0" -> "5"); others lose trailing zeros
    ("5.50" -> "5.5"). Raises ValueError when `text` holds no number.
    """
    cleaned = text.strip().replace(",", "").replace("$", "").rstrip(".").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def parse_gsm8k(text: str, source: str, split: str = "") -> list[Example]:
    """Examples of a GSM8K jsonl file (`{"question", "answer"}` per line).

    The target is the normalized number after the answer's final `#### `; the worked
    solution before it is kept in `meta["rationale"]`.
    """
    examples = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source}:{lineno}: not valid JSON ({exc.msg}); GSM8K files hold "
                            'one {"question", "answer"} object per line') from exc
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) \
                or not isinstance(row.get("answer"), str):
            raise DataError(f"{source}:{lineno}: expected an object with string fields "
                            '"question" and "answer"')
        rationale, sep, final = row["answer"].rpartition("####")
        if not sep:
            raise DataError(f"{source}:{lineno}: the answer has no final '#### <number>'")
        try:
            target = normalize_number(final.strip())
        except ValueError as exc:
            raise DataError(f"{source}:{lineno}: final answer {exc}") from None
        examples.append(Example(input=row["question"], target=target,
                                meta={"source": "gsm8k", "split": split,
                                      "index": len(examples), "rationale": rationale.strip()}))
    return examples


def score_gsm8k(prediction: str, target: str) -> float:
    """1.0 when the last number in `prediction` equals the numeric `target` (GSM8K style)."""
    numbers = re.findall(r"-?\$?\d[\d,]*(?:\.\d+)?", prediction)
    for raw in reversed(numbers):
        try:
            return float(normalize_number(raw) == normalize_number(target))
        except ValueError:
            continue
    return 0.0


# --- fetching and caching ----------------------------------------------------------------

def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds downloaded data files."""
    root = cache_dir or os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("undertow")
    return Path(root) / "data"


def _fetch(url: str, dest: Path, parse: Callable[[str, str], list[Example]],
           timeout: float) -> list[Example]:
    """Download `url`, check that it parses, and move it into place atomically."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}; check the "
                            "name and base URL, or pass path= to a local copy") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"could not download {url}: {reason}; check the network or pass "
                            "path= to a local copy") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{url}: not UTF-8 text ({exc.reason}); is the base URL right?") from exc
    examples = parse(text, url)  # raises DataError before anything is kept
    atomic_write_bytes(dest, raw)
    return examples


def _load(path: str | os.PathLike[str] | None, filename: str, kind: str,
          base_url: str | None, env: str, default_url: str, cache_dir: str | os.PathLike[str] | None,
          parse: Callable[[str, str], list[Example]], timeout: float) -> list[Example]:
    if path is not None:
        local = Path(path).expanduser()
        if local.is_dir():
            local = local / filename
        if not local.is_file():
            raise FileNotFoundError(
                f"{kind} file {local} does not exist; pass the file itself or the folder "
                f"holding {filename}, or leave path unset to download it")
        try:
            text = local.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{local}: not UTF-8 text ({exc.reason})") from exc
        return parse(text, str(local))
    base = (base_url or os.environ.get(env) or default_url).rstrip("/")
    url = f"{base}/{filename}"
    tag = hashlib.sha256(base.encode()).hexdigest()[:12]  # one cache folder per source
    cached = cache_root(cache_dir) / kind / tag / filename
    if cached.is_file():
        try:
            return parse(cached.read_text(encoding="utf-8"), str(cached))
        except (DataError, UnicodeDecodeError):
            cached.unlink(missing_ok=True)  # damaged by hand: fetch it again
    return _fetch(url, cached, parse, timeout)


def load_bbh(task: str, path: str | os.PathLike[str] | None = None, *,
             base_url: str | None = None, cache_dir: str | os.PathLike[str] | None = None,
             timeout: float = 60.0) -> list[Example]:
    """The examples of BIG-Bench Hard task `task` (one of `BBH_TASKS`).

    `path`: a local `<task>.json`, or the folder holding it; without it the file is
    downloaded from `base_url` (default: the pinned BBH repository) on first use.
    """
    if task not in BBH_TASKS:
        close = difflib.get_close_matches(task, BBH_TASKS, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "see BBH_TASKS for the 27 names"
        raise ValueError(f"unknown BBH task {task!r}; {hint}")
    return _load(path, f"{task}.json", "bbh", base_url, BBH_URL_ENV, BBH_URL, cache_dir,
                 lambda text, src: parse_bbh(text, src, task), timeout)


def load_gsm8k(split: str = "test", path: str | os.PathLike[str] | None = None, *,
               base_url: str | None = None, cache_dir: str | os.PathLike[str] | None = None,
               timeout: float = 60.0) -> list[Example]:
    """The GSM8K problems of `split` (one of `GSM8K_SPLITS`); targets are final numbers.

    `path`: a local `<split>.jsonl`, or the folder holding it; without it the file is
    downloaded from `base_url` (default: the pinned grade-school-math repository).
    """
    if split not in GSM8K_SPLITS:
        close = difflib.get_close_matches(split, GSM8K_SPLITS, n=2, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"choose one of {GSM8K_SPLITS}"
        raise ValueError(f"unknown GSM8K split {split!r}; {hint}")
    return _load(path, f"{split}.jsonl", "gsm8k", base_url, GSM8K_URL_ENV, GSM8K_URL,
                 cache_dir, lambda text, src: parse_gsm8k(text, src, split), timeout)


__all__ = ["BBH_TASKS", "GSM8K_SPLITS", "DataError", "DownloadError", "cache_root", "load_bbh",
           "load_gsm8k", "normalize_number", "parse_bbh", "parse_gsm8k", "score_gsm8k"]
