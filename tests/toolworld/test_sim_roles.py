"""The tool-doc sim roles read reworded requests the same way (labels, layout, order, where
the instruction sits), answer from what the request shows, and claim nothing else."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.sim.request import parse_format
from undertow.bench.sim.roles import (
    RoleRequest,
    claiming_role,
    tool_analyze,
    tool_explore,
    tool_rewrite,
)
from undertow.bench.sim.roles._draft import intent
from undertow.bench.sim.roles._sections import sections
from undertow.bench.sim.roles._toolcalls import (
    canonical,
    date_format,
    examples,
    from_iso,
    same_result,
    to_iso,
)
from undertow.bench.tasks.toolworld import make_world
from undertow.engine.llm import make_llm

WORLD = make_world(0)
DOC = WORLD.tools["calc"].doc
HISTORY = [("2^3", "1"), ("50%8", "4"), ("7/2", "4"), ("2+3", "5")]
ISSUES = ("- calc[2^3]: documented 8, observed 1\n- calc[50%8]: documented 2, observed 4\n"
          "- calc[7/2]: documented 3, observed 4")

INSTRUCTIONS = {
    "explore": ["Propose up to 12 new calls that probe the documented behaviour. One call per line.",
                "Suggest at most 12 test calls for this tool to check its documentation, written tool[input].",
                "Design up to 12 experiments (tool invocations) that exercise what the manual claims."],
    "analyze": ["Compare the documentation with the observed results and list every discrepancy.",
                "Where does the reference disagree with what the tool returned? List each mismatch.",
                "Find the inconsistencies between the docs and the observations below."],
    "rewrite": ["Rewrite the documentation so it matches the observations, fixing each listed issue.",
                "Revise the manual: correct every problem listed, using the observed outputs.",
                "Produce the corrected documentation that agrees with the observed behaviour."],
}
DOC_LABELS = ["Documentation", "Docs", "Tool manual", "Reference", "API description"]
HIST_LABELS = ["Calls already made", "History", "Observations", "Previous probes", "Observed results"]
ISSUE_LABELS = ["Discrepancies", "Findings", "Issues found", "Mismatches"]


def _request(job: str, wording: int, labels: tuple[str, str, str], layout: str, order: list[int],
             in_system: bool) -> list[dict[str, str]]:
    hist = "\n".join(f"calc[{a}] -> {r}" for a, r in HISTORY)
    parts = [(labels[0], DOC), (labels[1], hist)]
    if job == "rewrite":
        parts.append((labels[2], ISSUES))
    parts = [parts[i] for i in order if i < len(parts)] + [p for i, p in enumerate(parts) if i not in order]
    if layout == "json":
        body = json.dumps({k: v for k, v in parts}, indent=1)
    else:
        fmt = {"label": "{k}:\n{v}", "markdown": "## {k}\n{v}", "tag": "<{t}>\n{v}\n</{t}>"}[layout]
        body = "\n\n".join(fmt.format(k=k, v=v, t=re.sub(r"\W+", "_", k.lower())) for k, v in parts)
    instruction = INSTRUCTIONS[job][wording]
    if in_system:
        return [{"role": "system", "content": instruction}, {"role": "user", "content": body}]
    return [{"role": "user", "content": f"{instruction}\n\n{body}"}]


def _role_request(messages: list[dict[str, str]]) -> RoleRequest:
    pairs = [(m["role"], m["content"]) for m in messages]
    text = "\n".join(c for _, c in pairs)
    return RoleRequest(pairs, text, text, parse_format(text), None, ())


requests = st.builds(
    lambda job, w, dl, hl, il, layout, order, sys: (job, _request(job, w, (dl, hl, il), layout, order, sys)),
    st.sampled_from(sorted(INSTRUCTIONS)), st.integers(0, 2), st.sampled_from(DOC_LABELS),
    st.sampled_from(HIST_LABELS), st.sampled_from(ISSUE_LABELS), st.sampled_from(["label", "markdown", "tag", "json"]),
    st.permutations([0, 1, 2]), st.booleans())


@settings(max_examples=60)
@given(requests)
def test_reworded_requests_read_the_same(case) -> None:
    job, messages = case
    request = _role_request(messages)
    assert intent(request) == job
    secs = sections(request.pairs)
    assert [(e.args, e.result) for e in examples(secs["doc"])] == [(e.args, e.result) for e in examples(DOC)]
    assert [(e.args, e.result) for e in examples(secs["history"])] == HISTORY
    if job == "rewrite":
        assert re.findall(r"calc\[([^\]]*)\]", secs["discrepancies"]) == ["2^3", "50%8", "7/2"]


@settings(max_examples=25)
@given(requests)
def test_reworded_requests_get_the_same_reply(case) -> None:
    job, messages = case
    with pytest.MonkeyPatch.context() as mp:        # noise off: the reading, not the luck, is tested
        mp.setattr(tool_analyze, "MISS_RATE", 0.0)
        mp.setattr(tool_rewrite, "SLIP_RATE", 0.0)
        mp.setattr(tool_explore, "DROP_RATE", 0.0)
        reply = make_llm("sim", cache_dir=False).complete(messages).text
    if job == "explore":
        proposed = set(re.findall(r"calc\[([^\]\n]*)\]", reply))
        untried = {e.args for e in examples(DOC)} - {a for a, _ in HISTORY}
        assert untried <= proposed and not proposed & {a for a, _ in HISTORY}
    elif job == "analyze":
        assert sorted(set(re.findall(r"calc\[([^\]\n]*)\]", reply))) == ["2^3", "50%8", "7/2"]
    else:
        fixed = {e.args: e.result for e in examples(reply)}
        assert fixed["2^3"] == "1" and fixed["50%8"] == "4" and fixed["7/2"] == "4"
        assert fixed["2**3"] == "8" and "raises to a power. Example: calc[2^3]" not in reply


def test_more_evidence_gives_a_better_rewrite() -> None:
    """Only the discrepancies the request lists get fixed: fewer listed, fewer fixed."""
    llm = make_llm("sim", cache_dir=False)
    hist = "\n".join(f"calc[{a}] -> {r}" for a, r in HISTORY)
    base = f"Documentation:\n{DOC}\n\nObservations:\n{hist}\n\nDiscrepancies:\n"
    ask = "Rewrite the documentation to fix the listed discrepancies."
    one = llm.complete([{"role": "system", "content": ask},
                        {"role": "user", "content": base + ISSUES.splitlines()[0]}]).text
    three = llm.complete([{"role": "system", "content": ask}, {"role": "user", "content": base + ISSUES}]).text
    wrong = lambda doc: sum(1 for a, r in [("2^3", "8"), ("50%8", "2"), ("7/2", "3")]
                            if f"calc[{a}] -> {r}" in doc)
    assert wrong(three) < wrong(one) <= 2


@pytest.mark.parametrize("messages", [
    [{"role": "user", "content": "Rewrite this prompt to be clearer: 'Answer the question.'"}],
    [{"role": "system", "content": "Compare the two answers and say which is better."},
     {"role": "user", "content": "A: 4\nB: 5"}],
    [{"role": "user", "content": "Propose 3 test inputs for a sorting function."}],
])
def test_other_requests_are_not_claimed(messages) -> None:
    role = claiming_role(_role_request(messages))
    assert role is None or not role.name.startswith("tool_")


def test_agent_role_follows_steps_in_any_numbering() -> None:
    llm = make_llm("sim", cache_dir=False)
    system = "Use tools. Reply with Thought:, Action: tool[input], or Final Answer:.\n\n" + \
        "\n\n".join(WORLD.true_docs().values())
    for layout in ("Step 1: compute 5 to the power 3.\nStep 2: multiply the previous result by 2.",
                   "1. compute 5 to the power 3.\n2. multiply the previous result by 2.",
                   "1) compute 5 to the power 3\n2) multiply the previous result by 2"):
        reply = llm.complete([{"role": "system", "content": system}, {"role": "user", "content": layout}]).text
        assert "Action: calc[5**3]" in reply


# -- the shared readers --------------------------------------------------------------------
dates = st.dates().filter(lambda d: d.year >= 1000)


@given(dates, st.sampled_from(["DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "YYYY-MM-DD"]))
def test_date_formats_roundtrip(day, fmt: str) -> None:
    iso = day.isoformat()
    written = from_iso(f"on {iso}", fmt)
    assert to_iso(written, fmt) == f"on {iso}"
    assert date_format(f"dates are {fmt}") == fmt


@given(st.lists(st.tuples(st.from_regex(r"[a-z]{2,6}", fullmatch=True),
                          st.from_regex(r"[a-z0-9 +*/^%-]{1,10}", fullmatch=True),
                          st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9 .]{0,10}[A-Za-z0-9])?", fullmatch=True)), min_size=1, max_size=5))
def test_examples_parser(items) -> None:
    items = [(t, a.strip() or "x", r.strip() or "0") for t, a, r in items]
    text = "\n".join(f"- something. Example: {t}[{a}] -> {r}" for t, a, r in items)
    assert [(e.tool, e.args, e.result) for e in examples(text)] == items
    assert all(canonical(t, a) == canonical(t, f"  {a} ") for t, a, _ in items)


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_same_result_numbers(x: float) -> None:
    assert same_result(f"{x} m", f"{x:.10g} m")
    assert not same_result(f"{x} m", f"{x + 1 + abs(x)} m")


def test_an_optimizer_request_showing_a_trace_is_not_an_agent_turn() -> None:
    """OptoPrime's report shows the agent's Action/Observation trace; it asks for new
    variable values, so the tool roles must leave it to the optimizer role."""
    from undertow.agents.doc_react import DocReActAgent
    from undertow.bench.sim.llm import SimLLM
    from undertow.engine import backward
    from undertow.optimizers.opto import OptoPrime

    llm = make_llm("sim", seed=0, cache_dir=False)
    agent = DocReActAgent(llm, WORLD.callables(), WORLD.docs())
    seen: list[list[dict[str, str]]] = []
    complete = llm.complete

    def spy(messages, **kw):
        if kw.get("purpose") == "optimizer":
            seen.append(messages)
        return complete(messages, **kw)

    llm.complete = spy
    task = WORLD.tasks(0, 1)[0]
    backward(agent(task.question), f"Wrong: expected {task.answer}")
    OptoPrime(list(agent.docs.values()), llm).step()
    assert seen
    for messages in seen:
        role = SimLLM()._analyse([(m["role"], m["content"]) for m in messages]).role
        assert not role.startswith("tool_"), role
