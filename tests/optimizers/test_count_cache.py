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
