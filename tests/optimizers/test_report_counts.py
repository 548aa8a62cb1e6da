"""Token counting for OptoPrime's reports: the fast path counts what `encode` counts, and
the section-sum bound that lets `render_report` skip levels holds for real tokenizers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.opto.report import JOIN_SLACK
from undertow.optimizers.opto.tokens import FALLBACK, token_counter

bpe_openai = pytest.importorskip("bpe_openai")
ENC = bpe_openai.get_encoding("o200k_base")
COUNT = token_counter()

# texts like report sections: tags, code, numbers, whitespace runs, special-token text
pieces = st.sampled_from(["<variable name=\"x1\" kind=\"float\">", "</variable>", "#Code", "add_3 = add(x1, x2)",
                          " ", "  ", "\n", "\n\n", "\t", "3.25", "é", "猫", "<|endoftext|>", "…", "def f(a):",
                          "    return a", "{\"k\": [1, 2]}", "word", "Word", "'s", "!!", "\ud800"])
texts = st.lists(st.one_of(pieces, st.text(max_size=12)), max_size=30).map("".join)


@pytest.mark.skipif(COUNT.name == FALLBACK, reason="no real tokenizer installed")
@settings(max_examples=200, deadline=None)
@given(texts)
def test_fast_count_equals_encode(text: str) -> None:
    """`token_counter()` (the backend's count, or encode_ordinary) gives
    encode(disallowed_special=())'s count, lone surrogates included."""
    assert COUNT(text) == len(ENC.encode(text, disallowed_special=()))


@pytest.mark.skipif(COUNT.name == FALLBACK, reason="no real tokenizer installed")
@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6))
def test_join_is_never_far_below_the_sum_of_its_sections(parts: list[str]) -> None:
    """render_report skips a level when sum(section counts) - joins * JOIN_SLACK is over
    budget: that must be a lower bound of the joined text's count."""
    whole = COUNT("\n\n".join(parts))
    assert whole >= sum(COUNT(p) for p in parts) - (len(parts) - 1) * JOIN_SLACK


@pytest.mark.skipif(COUNT.name == FALLBACK, reason="no real tokenizer installed")
@settings(max_examples=400, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.lists(st.sampled_from(["#", "Y", "<", "(", "a", "1", ".", "…", "猫"]),
                                                       min_size=6, max_size=6))
def test_a_line_additive_tokenizer_counts_a_report_exactly_section_by_section(parts, leads) -> None:
    """The property `render_report` relies on when `line_additive` is set: a text of
    sections joined by blank lines, each after the first starting with a non-space
    character, counts the sum of (section + blank line) counts, the last without it."""
    assert COUNT.line_additive
    parts = [parts[0]] + [lead + p for lead, p in zip(leads, parts[1:])]
    whole = COUNT("\n\n".join(parts))
    assert whole == sum(COUNT(p + "\n\n") for p in parts[:-1]) + COUNT(parts[-1])


def test_a_counter_without_the_property_counts_the_report_whole() -> None:
    """A plain callable (or the chars/4 estimate) is never summed by sections."""
    from undertow.engine import Parameter, backward
    from undertow.optimizers.opto import GraphView, render_report

    xs = [Parameter(float(i), name=f"x{i}") for i in range(30)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    backward(total, "make it larger")
    view = GraphView.build([fb for x in xs for fb in x.feedback], {id(x): f"x{i}" for i, x in enumerate(xs)})
    seen: list[str] = []

    def count(text: str) -> int:
        seen.append(text)
        return len(text) // 3

    got = render_report(view, max_tokens=400, count=count)
    assert got.tokens == len(got.text) // 3 and got.text in seen


def _reference(view, max_tokens: int, count):
    """Every level rendered from scratch and counted whole: what render_report returned
    before it shared work between levels and skipped levels by their sections' counts."""
    from undertow.optimizers.opto.report import _levels, _Renderer, check_sections

    shown = check_sections(None)
    text = ""
    for level in _levels(500, len(view.outputs), len(view.calls), max_tokens):
        text, left = _Renderer(view, shown, (), (), level).render()
        if count(text) <= max_tokens:
            return text, left
    return text, left


@pytest.mark.skipif(COUNT.name == FALLBACK, reason="no real tokenizer installed")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), max_tokens=st.integers(150, 3000), words=st.booleans())
def test_shared_levels_render_the_same_report(n: int, max_tokens: int, words: bool) -> None:
    """The memoized, level-skipping render picks the same level and text as the reference."""
    from undertow.engine import Parameter, backward
    from undertow.optimizers.opto import GraphView, render_report

    xs = [Parameter(f"word {i} " * (i % 5) if words else float(i % 7), name=f"x{i}") for i in range(n)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    backward(total, "make it larger")
    view = GraphView.build([fb for x in xs for fb in x.feedback], {id(x): f"x{i}" for i, x in enumerate(xs)})
    got = render_report(view, max_tokens=max_tokens, count=COUNT)
    text, left = _reference(view, max_tokens, COUNT)
    assert (got.text, got.left_out[:len(left)]) == (text, left)
    assert got.tokens == COUNT(got.text)



@pytest.mark.skipif(COUNT.name == FALLBACK, reason="no real tokenizer installed")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 80), prose=st.sampled_from([
    "", "Answer the question step by step and give the final answer on the last line. ",
    "You are a careful assistant. Read the list, sort the words alphabetically, and reply "
    "with the sorted list only, separated by single spaces. "]))
def test_reports_run_under_the_clearly_over_length(n: int, prose: str) -> None:
    """render_report takes a level longer than CLEARLY_OVER_CHARS characters per token of
    the budget as over it without counting: every level of a report of code and values,
    or of ordinary prose, must have fewer characters per token than that."""
    from undertow.engine import Parameter, backward
    from undertow.optimizers.opto import GraphView
    from undertow.optimizers.opto.report import CLEARLY_OVER_CHARS, _levels, _Renderer, check_sections

    xs = [Parameter(prose * (i % 3) if prose else float(i % 7), name=f"x{i}") for i in range(n)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    backward(total, prose + "make it better")
    view = GraphView.build([fb for x in xs for fb in x.feedback], {id(x): f"x{i}" for i, x in enumerate(xs)})
    for level in _levels(500, len(view.outputs), len(view.calls), 6000):
        text, _ = _Renderer(view, check_sections(None), (), (), level).render()
        assert len(text) < CLEARLY_OVER_CHARS * COUNT(text), (len(text), COUNT(text))


def test_a_misjudged_level_is_tightened_never_sent_over_budget() -> None:
    """Prose of very long tokens runs past CLEARLY_OVER_CHARS: the report may then be
    tightened a level more than needed, but it stays within its budget."""
    from undertow.engine import Parameter, backward
    from undertow.optimizers.opto import GraphView, render_report

    long_runs = "=" * 64 + " " + "-" * 64 + "\n"
    xs = [Parameter(long_runs * 12, name=f"x{i}") for i in range(3)]
    total = xs[0] + xs[1] + xs[2]
    backward(total, "make it better")
    view = GraphView.build([fb for x in xs for fb in x.feedback], {id(x): f"x{i}" for i, x in enumerate(xs)})
    text = render_report(view, max_tokens=100_000, count=COUNT).text
    budget = max(200, len(text) // 6)  # over CLEARLY_OVER_CHARS chars per token of it
    report = render_report(view, max_tokens=budget, count=COUNT)
    assert report.tokens == COUNT(report.text)
    assert report.tokens <= budget or report.left_out  # over only when even the leanest level is


def test_a_part_starting_with_a_slash_is_not_summed() -> None:
    """o200k keeps "/" after a line break in the piece before it ("x.\\n//"): a report
    whose part starts with "/" is counted whole, not as the sum of its parts."""
    from undertow.engine import Parameter
    from undertow.optimizers.opto import GraphView
    from undertow.optimizers.opto.report import _Memo

    x = Parameter(1.0, name="x")
    memo = _Memo(GraphView([x], {id(x): "x"}, [], []), COUNT)
    assert memo.additive(["#Code", "#Variables"]) == COUNT.line_additive
    assert not memo.additive(["#Code", "// a comment"])
    assert not memo.additive(["#Code", " indented"])
