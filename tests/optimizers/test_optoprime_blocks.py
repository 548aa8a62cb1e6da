"""OptoPrime on large graphs: blocks within the budget, every variable offered, real token counts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.engine import Parameter, backward
from undertow.engine.llm import make_llm
from undertow.optimizers.opto import OptoPrime
from undertow.optimizers.opto.blocks import VARIABLE_SHARE, plan_blocks, reply_budget
from undertow.optimizers.opto.tokens import FALLBACK, estimate_tokens, token_counter


def _fan_in(n: int) -> list[Parameter]:
    xs = [Parameter(float(i % 7), name=f"x{i}") for i in range(n)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    backward(total, f"The sum should be {2.0 * n}; make it larger")
    return xs


def test_a_small_graph_is_one_request_with_every_variable():
    xs = _fan_in(10)
    opt = OptoPrime(xs, make_llm("sim", cache_dir=False))
    (block,) = opt.blocks()
    assert block.names == [f"x{i}" for i in range(10)] and not block.report.left_out


@pytest.mark.parametrize("counter", ["real", "estimate"])
def test_one_report_sizes_its_reply_by_its_variables_section(counter):
    """A step sent as one report: the reply budget comes from what the #Variables section
    takes of the report's own count (no separate count of the variables)."""
    count = token_counter(allow_real=counter == "real")
    if counter == "real" and count.name == FALLBACK:
        pytest.skip("no real tokenizer installed")
    xs = _fan_in(20)
    opt = OptoPrime(xs, make_llm("sim", cache_dir=False), tokenizer=count)
    (block,) = opt.blocks()
    text = block.report.text
    start = text.index("\n\n#Variables\n") + 2
    section = text[start:text.index("\n\n", start)]
    expected = count(section + "\n\n") if count.line_additive else count(section)
    assert block.report.variable_tokens == expected > 20
    assert block.reply_tokens == reply_budget(expected, 20)


@pytest.mark.parametrize("n", [300, 1000])
def test_a_large_graph_is_split_into_blocks_that_each_fit_and_cover_every_variable(n):
    xs = _fan_in(n)
    opt = OptoPrime(xs, make_llm("sim", cache_dir=False), max_tokens=6000)
    blocks = opt.blocks()
    assert len(blocks) > 1
    offered = [name for b in blocks for name in b.names]
    assert sorted(offered) == sorted(f"x{i}" for i in range(n))  # each exactly once
    for b in blocks:
        assert b.report.tokens <= 6000 and b.report.tokens == opt.tokenizer(b.report.text)
        shown = set(re.findall(r'<variable name="([^"]+)"', b.report.text))
        assert shown == set(b.names)
        code = b.report.text.split("#Code\n", 1)[1].split("\n\n", 1)[0]
        for name in b.names:  # the call that reads each variable is in its block's code
            assert re.search(rf"\b{name}\b", code), name
        assert b.reply_tokens == reply_budget(sum(opt.tokenizer(f'<variable name="{m}" kind="float">'
                                                                f'{opt.by_name[m].value}</variable>\n')
                                                  for m in b.names), len(b.names))


def test_every_variable_receives_an_update_proposal_in_one_step():
    xs = _fan_in(300)
    opt = OptoPrime(xs, make_llm("sim", cache_dir=False), max_tokens=6000)
    proposals = opt.step()
    changed = {p.parameter for p in proposals if p.accepted}
    assert changed == {f"x{i}" for i in range(300)}
    blocks = {p.meta["block"] for p in proposals if p.accepted}
    assert len(blocks) == proposals[0].meta["blocks"] > 1
    assert all(p.meta["tokenizer"] == opt.tokenizer.name for p in proposals)


def test_blocked_steps_are_reproducible():
    runs = []
    for _ in range(2):
        xs = _fan_in(200)
        opt = OptoPrime(xs, make_llm("sim", cache_dir=False, seed=3), max_tokens=3000, concurrency=4)
        opt.step()
        runs.append([x.value for x in xs])
    assert runs[0] == runs[1]


def test_reply_budget_grows_with_the_variables_offered():
    assert reply_budget(4000, 400) > reply_budget(400, 40) >= reply_budget(0, 0)
    assert reply_budget(10**6, 10**5) == reply_budget(10**7, 10**6)  # capped


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=60), st.integers(100, 5000))
def test_plan_blocks_partitions_the_variables_within_the_share(sizes, budget):
    names = [f"v{i}" for i in range(len(sizes))]
    received = {n: [] for n in names}
    size = dict(zip(names, sizes))
    blocks = plan_blocks(names, size, budget, received)
    assert [n for b in blocks for n in b] == names  # every name once, order kept
    share = max(1, int(budget * VARIABLE_SHARE))
    for b in blocks:
        assert b and (len(b) == 1 or sum(size[n] for n in b) <= share)


def test_the_token_counter_names_itself_and_the_fallback_is_labelled():
    fallback = token_counter(allow_real=False)
    assert fallback.name == FALLBACK and fallback.is_estimate
    assert fallback("abcdefgh") == estimate_tokens("abcdefgh") == 2
    real = token_counter()
    if real.is_estimate:
        pytest.skip("no tokenizer installed (extra [tokens])")
    # numbers and code tokenize denser than 4 characters per token
    text = '<variable name="x12" kind="float">12.0</variable>\n' * 50
    assert real(text) > estimate_tokens(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.text(max_size=40), st.floats(allow_nan=False, allow_infinity=False),
                                    st.integers()),
                          st.text(max_size=30)), min_size=1, max_size=8))
def test_one_count_of_the_joined_variables_is_the_sum_of_their_counts(values):
    """`blocks()` counts all variables with one encode of their joined texts (sizing the
    reply and deciding whether one report can hold them): that must equal the sum of
    their own counts, whatever the values and descriptions (BPE must not merge across them)."""
    from undertow.optimizers.opto.blocks import variable_text

    count = token_counter()
    params = [Parameter(v, name=f"v{i}", description=d) for i, (v, d) in enumerate(values)]
    texts = [variable_text(p.name, p) for p in params]
    assert count("".join(texts)) == sum(count(t) for t in texts)


@pytest.mark.parametrize("constraints", [True, False])
@pytest.mark.parametrize("n", [6, 400])
def test_reports_made_with_the_sizing_texts_equal_reports_made_afresh(constraints, n):
    """`blocks()` hands the #Variables lines it sized the step with to the report: every
    request's text must be what rendering its variables from scratch gives (descriptions
    with runs of white space, constraints of several kinds, sections masked or not)."""
    from undertow.optimizers.opto import GraphView, render_report
    from undertow.optimizers.opto.report import render_lossless

    xs = [Parameter(float(i % 5), name=f"x{i}", description="a  weight\n for the sum" if i % 3 else None,
                    bounds=(-10.0, 10.0) if i % 2 else None) for i in range(n)]
    xs.append(Parameter("b", name="pick", choices=["a", "b"]))
    total = xs[0]
    for x in xs[1:-1]:
        total = total + x
    backward([total, xs[-1] + "!"], ["make it larger", "say more"])
    opt = OptoPrime(xs, make_llm("sim", cache_dir=False), sections={"constraints": constraints})
    blocks = opt.blocks()
    assert sum(len(b.names) for b in blocks) == n + 1
    for block in blocks:
        params = [opt.by_name[name] for name in block.names]
        view = GraphView.build([fb for p in params for fb in p.feedback], {id(p): name for p, name
                                                                           in zip(params, block.names)})
        options = dict(sections={"constraints": constraints}, max_tokens=opt.max_tokens, count=opt.tokenizer)
        afresh = render_lossless(view, **options) if len(blocks) == 1 else render_report(view, **options)
        assert afresh is not None and block.report.text == afresh.text
