"""The token-count cache: each distinct text is counted once per tokenizer, the cache
stays within its size, and an optimizer's repeated sections are not counted again."""

from __future__ import annotations

import copy
import threading

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.engine import Parameter, backward
from undertow.engine.tokens import estimate_tokens
from undertow.optimizers.opto import OptoPrime
from undertow.optimizers.opto.graph import GraphView
from undertow.optimizers.opto.report import render_report
from undertow.optimizers.opto.tokens import COUNTS, CountCache, TokenCounter, token_counter


def counting(cache: CountCache | None, name: str = "test:words", additive: bool = False
             ) -> tuple[TokenCounter, list[str]]:
    """A counter (one token per word: line-additive, as the real ones are) that records
    every text it really counts."""
    seen: list[str] = []

    def count(text: str) -> int:
        seen.append(text)
        return len(text.split())

    return TokenCounter(name, count, additive, cache), seen


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=40))
def test_each_distinct_text_is_counted_once_with_the_same_result(texts: list[str]) -> None:
    cached, seen = counting(CountCache())
    plain, _ = counting(None)
    assert [cached(t) for t in texts] == [plain(t) for t in texts]
    assert sorted(seen) == sorted(set(texts))


def test_without_a_cache_every_call_counts() -> None:
    counter, seen = counting(None)
    counter("a b")
    counter("a b")
    assert seen == ["a b", "a b"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), max_size=60), st.integers(1, 80))
def test_the_cache_holds_at_most_max_chars_and_drops_the_least_recently_used(texts: list[str],
                                                                             limit: int) -> None:
    cache = CountCache(max_chars=limit)
    counter, _ = counting(cache)
    for t in texts:
        counter(t)
    held = [text for (_, text) in cache._counts]
    assert sum(len(t) for t in held) <= limit
    # what is held is a suffix of the texts in order of last use
    last_use: dict[str, int] = {}
    for i, t in enumerate(texts):
        last_use[t] = i
    order = sorted(last_use, key=last_use.__getitem__)
    fitting = [t for t in order if len(t) <= limit]
    assert held == fitting[len(fitting) - len(held):]


def test_a_hit_makes_a_text_recent() -> None:
    cache = CountCache(max_chars=6)
    counter, seen = counting(cache)
    counter("aa")
    counter("bb")
    counter("aa")  # hit: "bb" is now the oldest
    counter("cc")
    counter("dd")  # over 6 chars: "bb" goes first
    seen.clear()
    counter("aa")
    counter("bb")
    assert seen == ["bb"]


def test_tokenizers_do_not_share_counts() -> None:
    cache = CountCache()
    words, _ = counting(cache, "test:words")
    chars = TokenCounter("test:chars", len, False, cache)
    assert words("one two") == 2
    assert chars("one two") == 7


def test_threads_counting_together_get_right_counts() -> None:
    cache = CountCache(max_chars=200)
    counter, _ = counting(cache)
    texts = [" ".join(["w"] * k) for k in range(1, 40)]
    wrong: list[str] = []

    def work() -> None:
        for _ in range(20):
            for t in texts:
                if counter(t) != len(t.split()):
                    wrong.append(t)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not wrong
    assert sum(len(text) for (_, text) in cache._counts) <= 200


def test_the_real_tokenizers_share_the_process_cache_and_copies_keep_it() -> None:
    counter = token_counter()
    if counter.is_estimate:
        assert counter.cache is None  # the estimate costs less than a lookup
    else:
        assert counter.cache is COUNTS
    assert copy.deepcopy(COUNTS) is COUNTS
    xs = [Parameter(1.0, name="a"), Parameter(2.0, name="b")]
    backward(xs[0] + xs[1], "larger")
    counter = TokenCounter("test:x", estimate_tokens, False, COUNTS)
    opt = OptoPrime(xs, _NoLLM(), tokenizer=counter)
    assert copy.deepcopy(opt).tokenizer.cache is COUNTS


class _NoLLM:
    def complete(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("not called")


def test_a_second_report_of_the_same_graph_counts_only_what_changed() -> None:
    """The sections that repeat from one step to the next (#Code, documentation,
    instructions) are not counted again; the ones whose values changed are."""
    xs = [Parameter(float(i), name=f"x{i}") for i in range(30)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    backward(total, "make it larger")
    counter, seen = counting(CountCache(), "test:report", additive=True)
    opt = OptoPrime(xs, _NoLLM(), tokenizer=counter)
    first = opt.report()
    assert first is not None and seen
    seen.clear()
    again = opt.report()
    assert again is not None and again.text == first.text and again.tokens == first.tokens
    assert seen == []  # nothing new to count
    xs[3].set(100.0)  # a value changes: its sections are counted, #Code is not
    third = opt.report()
    assert third is not None and seen
    code = next(p for p in third.text.split("\n\n") if p.startswith("#Code"))
    assert not any(code in t for t in seen)
    assert any("100.0" in t for t in seen)


def test_render_report_counts_agree_with_and_without_the_cache() -> None:
    xs = [Parameter(float(i), name=f"v{i}") for i in range(12)]
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    backward(out, "smaller")
    view = GraphView.build([fb for x in xs for fb in x.feedback], {id(x): f"v{i}" for i, x in enumerate(xs)})
    for additive in (False, True):
        cached, _ = counting(CountCache(), "test:agree", additive)
        plain, _ = counting(None, "test:agree", additive)
        for budget in (50, 200, 2000, 50, 200):
            a = render_report(view, max_tokens=budget, count=cached)
            b = render_report(view, max_tokens=budget, count=plain)
            assert (a.text, a.tokens, a.left_out) == (b.text, b.tokens, b.left_out)


def test_a_child_forked_while_the_lock_is_held_can_count() -> None:
    """The runner forks its workers; a fork while another thread counts must not leave
    the child waiting on a lock no thread of its own will release."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return
    counter = TokenCounter("test:fork", lambda text: len(text.split()), False, COUNTS)
    ctx = multiprocessing.get_context("fork")
    with COUNTS._lock:  # as if another thread were counting at the moment of the fork
        child = ctx.Process(target=_count_in_child, args=(counter,))
        child.start()
    child.join(timeout=120)
    if child.is_alive():  # hung on the inherited lock
        child.kill()
        child.join()
    assert child.exitcode == 0


def _count_in_child(counter: TokenCounter) -> None:
    assert counter("three words here") == 3


# -- counts by digit shape and by line (the real tokenizers) ---------------------------

def _real_encodings() -> list[tuple[str, object]]:
    try:
        import bpe_openai
    except ImportError:
        return []
    from undertow.optimizers.opto.tokens import DIGIT_BLIND
    return [(name, bpe_openai.get_encoding(name)) for name in sorted(DIGIT_BLIND)]


def test_every_string_of_one_to_three_digits_is_one_token_in_the_digit_blind_encodings() -> None:
    """The fact `DIGIT_BLIND` rests on (with the pre-tokenizer's digit runs cut in threes)."""
    import itertools

    encodings = _real_encodings()
    if not encodings:
        import pytest
        pytest.skip("bpe-openai not installed")
    for name, enc in encodings:
        many = [s for k in (1, 2, 3) for s in map("".join, itertools.product("0123456789", repeat=k))
                if len(enc.encode_ordinary(s)) != 1]  # type: ignore[attr-defined]
        assert many == [], name


_LINE_PIECES = st.sampled_from(["<variable name=\"x1\" kind=\"float\">", "</variable>", "#Others", "(float) add_3 = ",
                                "3.25", "-0.5", "1e-05", "12345678", "x9", "\n", "\n\n", " ", "  ", "\t", "/", "//",
                                ".", ">", "a = add(b, 2)", "'s", "007", "2024-12-03", "\r\n", "word", "\n/", "\n "])
_ascii_texts = st.lists(st.one_of(_LINE_PIECES, st.text(st.characters(max_codepoint=127), max_size=8)),
                        max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ascii_texts, min_size=1, max_size=4), st.text(st.sampled_from("0123456789"), min_size=1))
def test_counts_by_digit_shape_and_by_line_equal_the_tokenizers_own(texts: list[str], digits: str) -> None:
    """A cached real counter (texts looked up by digit shape, long ones summed line by
    line) gives exactly what the tokenizer counts, on ASCII texts with numbers, slashes
    after line breaks, indented and blank lines; and the same text with other digits."""
    raw = token_counter()
    if raw.is_estimate or not raw.digit_blind:
        import pytest
        pytest.skip("no digit-blind tokenizer installed")
    import dataclasses

    from unittest import mock

    counter = dataclasses.replace(raw, cache=CountCache())
    swap = str.maketrans("0123456789", (digits * 10)[:10])
    with mock.patch("undertow.optimizers.opto.tokens.LINES_FROM", 0):  # every text by lines
        for text in texts + [t.translate(swap) for t in texts]:
            assert counter(text) == raw.count(text), text


def test_a_line_break_then_a_slash_is_not_a_place_to_cut() -> None:
    """o200k puts punctuation, the line break after it and a following "/" in one
    piece: the line sum must not cut there (it did before `LINE_ADDITIVE` said so)."""
    raw = token_counter()
    if raw.is_estimate or not raw.name.endswith("o200k_base"):
        import pytest
        pytest.skip("o200k not installed")
    a, b = "x.\n", "//y"
    assert raw.count(a + b) != raw.count(a) + raw.count(b)
    from undertow.optimizers.opto.tokens import _lines
    assert _lines((a + b) * 200) is None


def test_numbers_that_keep_their_shape_are_not_counted_again() -> None:
    """A report whose values changed but kept their digit shapes is counted from the
    cache; a value whose shape changed costs one count of its own line."""
    raw = token_counter()
    if raw.is_estimate or not raw.digit_blind:
        import pytest
        pytest.skip("no digit-blind tokenizer installed")
    import dataclasses

    seen: list[str] = []

    def count(text: str) -> int:
        seen.append(text)
        return raw.count(text)

    counter = dataclasses.replace(raw, count=count, cache=CountCache())

    def section(values: list[float]) -> str:
        return "#Variables\n" + "".join(f'<variable name="x{i}" kind="float">{v}</variable>\n'
                                        for i, v in enumerate(values)) + "\n"

    first = [i % 7 + 0.25 for i in range(40)]
    assert counter(section(first)) == raw.count(section(first))
    seen.clear()
    second = [i % 5 + 0.75 for i in range(40)]  # new values, same shapes
    assert counter(section(second)) == raw.count(section(second))
    assert seen == []
    third = list(second)
    third[7] = 12.125  # one value of a new shape
    assert counter(section(third)) == raw.count(section(third))
    assert len(seen) == 1 and "00.000" in seen[0] and seen[0].count("\n") == 1
