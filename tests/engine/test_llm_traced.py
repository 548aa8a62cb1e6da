"""LLM calls as operator nodes, and the textual propagator, on the simulated LLM (llm=sim)."""

from __future__ import annotations

import asyncio
import random

import pytest

from undertow.bench.tasks.reasoning import boolean_expressions as be
from undertow.engine import ErrorNode, ExecutionError, Parameter, TextualPropagator, backward, no_trace, op
from undertow.engine.llm import make_llm
from undertow.engine.llm.traced import allm_call, llm_call, response_of


@pytest.fixture
def llm():
    return make_llm("sim", cache_dir=False, profiles=[be.PROFILE])


def _wrong_items(llm, prompt, n=60):
    items = [be.generate(random.Random(i)) for i in range(n)]
    outs = [llm_call(llm, ex.input, system=prompt) for ex in items]
    return [(o, ex) for o, ex in zip(outs, items) if be.score(o.value, ex.target) < 1]


def test_llm_call_is_a_node_whose_parents_are_the_prompt_nodes(llm):
    prompt = Parameter("Evaluate the boolean expression.", name="system_prompt")
    question = Parameter("not ( True ) and ( False or True ) is", name="question")
    out = llm_call(llm, question, system=prompt)
    assert out.op.name == "llm" and set(out.parents) == {question, prompt}
    assert isinstance(out.value, str) and out.value
    assert response_of(out).usage.total_tokens > 0
    backward(out, "wrong")
    assert prompt.feedback[0].outputs == [out]
    with no_trace():
        assert isinstance(llm_call(llm, question, system=prompt), str)


def test_async_llm_call(llm):
    prompt = Parameter("Evaluate the boolean expression.", name="system_prompt")
    out = asyncio.run(allm_call(llm, "True and not False is", system=prompt))
    assert out.parents == (prompt,) and out.value


def test_llm_errors_become_error_nodes():
    llm = make_llm("sim", cache_dir=False, budget={"max_calls": 0})
    prompt = Parameter("Evaluate.", name="p")
    with pytest.raises(ExecutionError) as info:
        llm_call(llm, "True is", system=prompt)
    assert isinstance(info.value.node, ErrorNode) and info.value.node.parents == (prompt,)


def test_textual_critique_reaches_the_prompt_and_names_a_fix(llm):
    prompt = Parameter("Evaluate the boolean expression.", name="system_prompt")
    wrong = _wrong_items(llm, prompt)
    assert wrong, "an uninstructed prompt should get some items wrong"
    out, ex = wrong[0]
    prop = TextualPropagator(llm)
    backward(out, f"Wrong answer: expected {ex.target}, got {out.value!r}.", prop)
    (fb,) = prompt.feedback
    assert prop.levels == [1] and len(fb.critiques) == 1 and fb.outputs == [out]
    assert any(skill.fix in fb.critiques[0] for skill in be.PROFILE.skills), fb.critiques[0]
    assert llm.accounting.spent("optimizer").calls == 1


def test_textual_critiques_are_batched_per_level(llm):
    prompt = Parameter("Evaluate the boolean expression.", name="system_prompt")

    @op
    def last_line(text: str) -> str:
        """The last line of a reply."""
        return text.strip().splitlines()[-1]

    outs = [last_line(llm_call(llm, q, system=prompt)) for q in ("True and False is", "not False or False is")]
    prop = TextualPropagator(llm)
    backward(outs, ["expected False", "expected True"], prop)
    # level 0: the two last_line nodes critique their llm nodes; level 1: the two llm nodes critique the prompt
    assert prop.levels == [2, 2]
    (fb,) = prompt.feedback
    assert len(fb.critiques) == 2 and fb.feedback == ["expected False", "expected True"]
