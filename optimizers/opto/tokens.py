"""Token counts for report budgets: a real tokenizer when one is installed, else chars/4.

`token_counter()` returns a `TokenCounter` whose `name` says which it is:

- `tiktoken:o200k_base` — OpenAI's tokenizer (extra `[tokens]`), when its encoding
  file is available (tiktoken downloads it once, or reads `TIKTOKEN_CACHE_DIR`);
- `bpe-openai:o200k_base` — the same encodings with their data bundled in the wheel
  (also in `[tokens]`), so offline machines count real tokens too;
- `chars/4 (fallback estimate)` — one token per 4 characters. On reports of code and
  numbers this undercounts real o200k counts by 1.3-1.7x, so budgets set with it are
  loose; it is labelled so that figures made with it are never mistaken for counts.

o200k is the encoding of current OpenAI models; for other providers it is a close
stand-in (their own counts need an API call, which a budget check must not make).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from undertow.engine.tokens import estimate_tokens

FALLBACK = "chars/4 (fallback estimate)"


#: Encodings whose pre-tokenizer never puts a line break and the character after it in
#: one piece when that character is neither white space nor "/" (o200k's punctuation
#: piece takes line breaks and slashes after it), so a text's count is the sum of its
#: parts' counts when each part after the first starts with such a character right
#: after a line break (tests/optimizers/test_report_counts.py checks it on generated texts).
LINE_ADDITIVE = frozenset({"o200k_base", "cl100k_base"})

#: Encodings in which an ASCII digit's value never matters to a count: the pre-tokenizer
#: cuts runs of digits into pieces of at most three, whatever the digits, no other piece
#: takes a digit, and every string of one to three ASCII digits is a single token. So an
#: ASCII text counts as its *digit shape* (every digit made "0") counts; reports whose
#: numbers changed but kept their shapes (a training loop's values) are counted from the
#: cache (tests/optimizers/test_count_cache.py checks both facts on the real encodings).
DIGIT_BLIND = frozenset({"o200k_base", "cl100k_base"})

_ZEROS = str.maketrans("123456789", "000000000")

#: A line break whose next line a line-additive count cannot start afresh (see LINE_ADDITIVE).
_JOINED_LINE = re.compile(r"\n[\s/]")

#: Texts shorter than this are counted whole: splitting them saves nothing.
LINES_FROM = 256


class CountCache:
    """Token counts of texts already counted, by (tokenizer name, text), least recently
    used dropped past `max_chars` characters of text held.

    An optimizer's reports repeat most of their sections from step to step (#Code, the
    documentation, the instructions, the values that did not change); a count is a pure
    function of the text, so each is made once. Thread-safe.
    """

    def __init__(self, max_chars: int = 8_000_000) -> None:
        self.max_chars = max_chars
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, name: str, text: str) -> int | None:
        with self._lock:
            got = self._counts.get((name, text))
            if got is not None:
                self._counts.move_to_end((name, text))
            return got

    def get_many(self, name: str, texts: list[str]) -> list[int | None]:
        """`get` of each text, under one lock."""
        counts, out = self._counts, []
        with self._lock:
            for text in texts:
                got = counts.get((name, text))
                if got is not None:
                    counts.move_to_end((name, text))
                out.append(got)
        return out

    def put(self, name: str, text: str, tokens: int) -> None:
        self.put_many(name, [(text, tokens)])

    def put_many(self, name: str, items: list[tuple[str, int]]) -> None:
        """`put` of each (text, count), under one lock."""
        with self._lock:
            for text, tokens in items:
                if len(text) > self.max_chars or (name, text) in self._counts:
                    continue
                self._counts[(name, text)] = tokens
                self._chars += len(text)
            while self._chars > self.max_chars:
                (_, old), _n = self._counts.popitem(last=False)
                self._chars -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._counts)

    # Shared, like an LLM client's cache: a copy of an optimizer counts through the same
    # cache, and a pickled one (sent to a worker) through that process's.
    def __copy__(self) -> CountCache:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> CountCache:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_process_counts, ()) if self is COUNTS else (CountCache, (self.max_chars,))


def _process_counts() -> CountCache:
    return COUNTS


#: The process's cache of the real tokenizers' counts (`token_counter()`'s counters use it).
COUNTS = CountCache()
# A child forked while another thread held the lock would wait on it forever: it gets a new one.
os.register_at_fork(after_in_child=lambda: setattr(COUNTS, "_lock", threading.Lock()))


@dataclass(frozen=True)
class TokenCounter:
    """`count(text) -> int` and the tokenizer's name (`FALLBACK` for the estimate).

    `line_additive`: `count(a + b) == count(a) + count(b)` whenever `a` ends with a line
    break and `b` starts with a character that is neither white space nor "/" (see
    `LINE_ADDITIVE`): a report is then counted section by section, each section once,
    never whole, and a long text not in the cache line by line.
    `cache`: where counts already made are kept (`COUNTS` for the real tokenizers, keyed
    by `name`, which must then name one tokenizer); None counts every time.
    `digit_blind`: an ASCII text counts as its digit shape does (see `DIGIT_BLIND`); with
    a cache, ASCII texts are looked up by shape, and a line-additive counter looks a
    text missing from the cache up line by line, counting only the lines whose shapes are
    new: a report whose numbers changed costs a few lookups instead of a count.
    """

    name: str
    count: Callable[[str], int]
    line_additive: bool = False
    cache: CountCache | None = None
    digit_blind: bool = False

    @property
    def is_estimate(self) -> bool:
        return self.name == FALLBACK

    def __call__(self, text: str) -> int:
        cache = self.cache
        if cache is None:
            return self.count(text)
        if self.digit_blind and text.isascii():
            text = text.translate(_ZEROS)
        got = cache.get(self.name, text)
        if got is None:
            lines = _lines(text) if self.line_additive and len(text) >= LINES_FROM else None
            got = self.count(text) if lines is None else self._sum(lines)
            cache.put(self.name, text, got)
        return got

    def _sum(self, lines: list[str]) -> int:
        """The count of `lines` joined (their counts summed: see `_lines`), new ones counted."""
        cache = self.cache
        assert cache is not None
        counts = cache.get_many(self.name, lines)
        if None in counts:
            missing = dict.fromkeys(line for line, got in zip(lines, counts) if got is None)
            new = [(line, self.count(line)) for line in missing]
            cache.put_many(self.name, new)
            fresh = dict(new)
            counts = [fresh[line] if got is None else got for line, got in zip(lines, counts)]
        return sum(counts)  # type: ignore[arg-type]


def _lines(text: str) -> list[str] | None:
    """`text` cut after each line break, when a line-additive count of it is the sum of
    its lines' counts: no line after the first starts with white space or "/" (trailing
    line breaks stay with the last line). None otherwise."""
    body = text.rstrip("\n")
    if _JOINED_LINE.search(body) is not None:
        return None
    lines = body.split("\n")
    last = lines.pop() + text[len(body):]
    out = [line + "\n" for line in lines]
    out.append(last)
    return out


@functools.lru_cache(maxsize=8)
def token_counter(encoding: str = "o200k_base", *, allow_real: bool = True) -> TokenCounter:
    """The best available counter for `encoding`; chars/4 (labelled) when none loads.

    Looked up once per process and encoding: a failed download is not retried.
    """
    if allow_real:
        for make in (_tiktoken, _bpe_openai):
            counter = make(encoding)
            if counter is not None:
                return counter
    return TokenCounter(FALLBACK, estimate_tokens)


def _tiktoken(encoding: str) -> TokenCounter | None:
    try:
        import tiktoken

        enc = tiktoken.get_encoding(encoding)
        enc.encode("probe")
    except Exception:  # noqa: BLE001 - not installed, or its data cannot be fetched offline
        return None
    # encode_ordinary: special tokens' text counted as plain text, like encode(disallowed_special=())
    return TokenCounter(f"tiktoken:{encoding}", lambda text: len(enc.encode_ordinary(text)),
                        encoding in LINE_ADDITIVE, COUNTS, encoding in DIGIT_BLIND)


def _bpe_openai(encoding: str) -> TokenCounter | None:
    try:
        import bpe_openai

        enc = bpe_openai.get_encoding(encoding)
        enc.encode("probe")
    except Exception:  # noqa: BLE001 - not installed or no such encoding
        return None

    # encode_ordinary gives encode(text, disallowed_special=())'s tokens (special tokens'
    # text as plain text) without its per-call bookkeeping: 2.7 us instead of 50 us on a
    # one-line text, 5 ms instead of 9 ms on 100 kB (measured with bpe-openai 0.1.4).
    # Its Rust backend's `count` gives the same number without making the list: 16 % less
    # on a 12 kB report (0.56 ms instead of 0.67); text it cannot encode (lone
    # surrogates) is repaired first as encode_ordinary repairs it (U+FFFD).
    ordinary = getattr(enc, "encode_ordinary", None)
    if ordinary is not None:
        fast = getattr(getattr(enc, "_backend", None), "count", None)
        if fast is not None and fast("probe text, 12") == len(ordinary("probe text, 12")):
            def counted(text: str) -> int:
                try:
                    return fast(text)
                except UnicodeEncodeError:
                    return fast(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
            return TokenCounter(f"bpe-openai:{encoding}", counted, encoding in LINE_ADDITIVE, COUNTS,
                                encoding in DIGIT_BLIND)
        return TokenCounter(f"bpe-openai:{encoding}", lambda text: len(ordinary(text)),
                            encoding in LINE_ADDITIVE, COUNTS, encoding in DIGIT_BLIND)

    def count(text: str) -> int:
        try:
            return len(enc.encode(text, disallowed_special=()))
        except TypeError:  # an API without the keyword
            return len(enc.encode(text))
    return TokenCounter(f"bpe-openai:{encoding}", count, encoding in LINE_ADDITIVE, COUNTS,
                        encoding in DIGIT_BLIND)
