"""The OptoPrime report: golden texts on small graphs, masking, collapsing, the size budget.

Regenerate the golden files with `UNDERTOW_UPDATE_GOLDEN=1 pytest tests/optimizers`
after a deliberate change of the report, and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from undertow.engine import Node, Parameter, backward, capture, op
from undertow.engine.llm import llm_call, make_llm
from undertow.bench.sim.request import (
    parse_blocks,
    parse_format,
    parse_variables,
    strip_shown,
)
from undertow.optimizers.opto import (
    GraphView,
    OptoPrime,
    render_report,
)

GOLDEN = Path(__file__).parent / "golden"


@op(trainable=True)
def scale(v, k):
    """Divides v by k."""
    return v / k


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UNDERTOW_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UNDERTOW_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"report differs from {path.name}"


def _numeric_graph():
    x = Parameter(3.0, name="x", bounds=(0.0, 10.0), description="the coefficient to tune")
    y = Node(1.0, name="y")
    out = x * 2.0 + y
    backward(out, "the output is 7.0 but should be 5.0")
    return x, out


def test_golden_numeric_graph():
    x, _ = _numeric_graph()
    report = OptoPrime([x], make_llm("sim", cache_dir=False)).report()
    check_golden("numeric.txt", report.text)
    assert report.left_out == []


def test_golden_code_with_error_and_fixed_input():
    k = Parameter(0, name="k", description="the divisor")
    out = capture(scale, 10.0, k)
    backward(out, "the call failed")
    opt = OptoPrime([scale.code, k], make_llm("sim", cache_dir=False))
    check_golden("code_error.txt", opt.report().text)


def _prompt_graph(n=3):
    llm = make_llm("sim", cache_dir=False)
    prompt = Parameter("Evaluate the boolean expression.", name="system_prompt", max_length=2000)
    items = ["not True and False is", "True or False and False is", "not ( True or False ) is"][:n]
    outs = [llm_call(llm, q, system=prompt) for q in items]
    backward(outs, ["Wrong: expected False", "Correct", "Wrong: expected False"][:n])
    return prompt, llm, outs


def test_golden_prompt_minibatch_and_sim_reads_it():
    prompt, llm, _ = _prompt_graph()
    text = OptoPrime([prompt], llm).report().text
    check_golden("prompt_batch.txt", text)
    # The simulator's request reader sees what a real model would: the variable, the
    # examples with input/output/feedback, and a JSON reply with the two keys.
    (var,) = parse_variables(text)
    assert (var.name, var.kind, var.value) == ("system_prompt", "text", prompt.value)
    blocks = [b for b in parse_blocks(text) if "input" in b.fields]
    assert len(blocks) == 3 and all({"output", "feedback"} <= set(b.fields) for b in blocks)
    fmt = parse_format(strip_shown(text))
    assert fmt.kind == "json" and fmt.keys == ["reasoning", "suggestion"]


@pytest.mark.parametrize("section, marker", [("code", "\n#Code\n"), ("documentation", "\n#Documentation\n"),
                                             ("inputs", "<input>"), ("constraints", "constraints:")])
def test_masking_a_section_removes_only_it(section, marker):
    prompt, llm, _ = _prompt_graph()
    full = OptoPrime([prompt], llm).report().text
    masked = OptoPrime([prompt], llm, sections={section: False}).report().text
    assert marker in full and marker not in masked
    assert "<feedback>Wrong: expected False</feedback>" in masked
    assert '<variable name="system_prompt" kind="text">' in masked


def test_bad_section_names_are_refused():
    x = Parameter(1.0, name="x")
    llm = make_llm("sim", cache_dir=False)
    with pytest.raises(ValueError, match="unknown report section 'graph'"):
        OptoPrime([x], llm, sections={"graph": False})
    with pytest.raises(ValueError, match="cannot be masked"):
        OptoPrime([x], llm, sections={"variables": False})


def test_a_long_chain_collapses_into_one_line_with_a_count():
    x = Parameter(0.0, name="x0")
    v = x
    for _ in range(500):
        v = v + 1.0
    backward(v, "should be 1000")
    opt = OptoPrime([x], make_llm("sim", cache_dir=False), max_tokens=1500)
    report = opt.report()
    assert "498 more calls of add of the same shape (add_1 … add_498), left out" in report.text
    assert "add_0 = add(x0, 1.0)" in report.text and "add_499 = add(add_498, 1.0)" in report.text
    assert report.tokens <= 1500 and report.tokens == opt.tokenizer(report.text)
    assert any("498 repeated add calls" in x for x in report.left_out)
    assert "#Left out" in report.text


@pytest.mark.parametrize("budget", [450, 800, 3000])
def test_the_report_fits_its_budget_and_says_what_it_left_out(budget):
    llm = make_llm("sim", cache_dir=False)
    prompt = Parameter("Evaluate.", name="system_prompt")
    long_input = "True and " * 200 + "True is"
    outs = [llm_call(llm, f"{long_input} {i}", system=prompt) for i in range(30)]
    backward(outs, [f"Wrong: expected True ({'x' * 300})" for _ in outs])
    view = GraphView.build(prompt.feedback, {id(prompt): "system_prompt"})
    report = render_report(view, max_tokens=budget)
    assert report.tokens <= budget
    assert report.left_out and "#Left out" in report.text
    assert '<variable name="system_prompt" kind="text">Evaluate.</variable>' in report.text


def test_variables_are_never_cut_even_over_budget():
    prompt = Parameter("word " * 2000, name="p")
    out = prompt + "!"
    backward(out, "too long")
    report = render_report(GraphView.build(prompt.feedback, {id(prompt): "p"}), max_tokens=100)
    assert prompt.value in report.text
    assert "over the budget" in report.left_out[-1]


def test_names_do_not_depend_on_global_node_ids():
    texts = []
    for _ in range(2):
        x, _ = _numeric_graph()
        texts.append(OptoPrime([x], make_llm("sim", cache_dir=False)).report().text)
    assert texts[0] == texts[1]


def test_a_graph_with_two_parameters_and_a_fixed_one():
    a, b = Parameter(1.0, name="a"), Parameter(2, name="b", bounds=(0, 5))
    fixed = Parameter(10.0, name="fixed")
    out = (a * fixed) + b
    backward(out, "smaller please")
    text = OptoPrime([a, b], make_llm("sim", cache_dir=False)).report().text
    assert "fixed = 10.0 (fixed parameter)" in text
    assert '<variable name="a" kind="float">1.0</variable>' in text
    assert '<variable name="b" kind="int">2</variable>' in text
    assert 'constraints: bounds [0, 5]' in text
    assert "mul_0 = mul(a, fixed)" in text and "add_0 = add(mul_0, b)" in text


def test_report_benchmark_returns_figures_within_budget():
    from undertow.optimizers.opto.perf import report_benchmark

    out = report_benchmark(n_nodes=2000, n_outputs=8, max_tokens=3000, repeats=1)
    assert out["n_nodes"] == 2001 and out["tokens"] <= 3000
    assert out["left_out"] == ["1990 repeated add calls in #Code"]
    assert out["build_s"] >= 0 and out["render_s"] >= 0


def test_reports_show_no_memory_addresses():
    """A value without JSON form (a dict of tool functions given to an op) is shown by its
    repr; an address in it would make the request, and so the cache key and the sim's
    reply, differ from one worker process to the next."""
    import re

    from undertow.engine import Parameter, backward, op
    from undertow.engine.llm import make_llm
    from undertow.optimizers.opto import OptoPrime

    def calc(x: str) -> str:
        return x

    @op
    def use(tools, prompt):
        return prompt + str(len(tools))

    p = Parameter("Solve it.", name="prompt")
    out = use({"calc": calc, "obj": object()}, p)
    backward(out, "wrong")
    text = OptoPrime([p], make_llm("sim", cache_dir=False)).report().text
    assert "<function test_reports_show_no_memory_addresses.<locals>.calc>" in text, text
    assert not re.search(r"0x[0-9a-f]{6,}", text), text
