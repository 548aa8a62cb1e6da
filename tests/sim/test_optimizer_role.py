"""The optimizer and critic roles: diagnosis from what a request shows, reply formats."""

from __future__ import annotations

import json
import random

import pytest
from undertow.bench.sim import SimLLM
from undertow.bench.tasks.reasoning import boolean_expressions as be

from .conftest import fixes

NOT_SCOPE = be.PROFILE.skill("not_scope")
JSON_ASK = ('Propose a better value. Reply in JSON with keys "reasoning" and "suggestion" '
            "(a map from variable name to its new value).")


def failing_examples(skill: str, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(input, wrong output, expected) for items that need only `skill`, answered without it."""
    rng, out = random.Random(seed), []
    while len(out) < n:
        ex = be.generate(rng)
        if ex.meta["skills"] == [skill]:
            out.append((ex.input, be.PROFILE.answer_without(ex.input, frozenset({skill})),
                        ex.target))
    return out


def request(prompt: str, examples: list[tuple[str, str, str]], ask: str = JSON_ASK) -> str:
    shown = "\n".join(f"<example>\n<input>{i}</input>\n<output>{o}</output>\n"
                      f"<expected>{e}</expected>\n<feedback>Wrong answer.</feedback>\n</example>"
                      for i, o, e in examples)
    return (f"You improve the instructions of a model that evaluates boolean expressions.\n"
            f'<variable name="system_prompt" kind="text">{prompt}</variable>\n{shown}\n{ask}')


def propose(sim: SimLLM, text: str, seed: int) -> dict:
    reply = sim.complete([{"role": "user", "content": text}], seed=seed)
    return json.loads(reply.text)


def test_errors_shown_lead_to_the_needed_cue_more_often(sim: SimLLM) -> None:
    base = "Evaluate the expression. " + fixes("answer_format")
    with_errors = no_errors = 0
    for seed in range(60):
        shown = propose(sim, request(base, failing_examples("not_scope", 3, seed)), seed)
        blind = propose(sim, request(base, []), seed)
        with_errors += NOT_SCOPE.taught_by(shown["suggestion"]["system_prompt"])
        no_errors += NOT_SCOPE.taught_by(blind["suggestion"]["system_prompt"])
    assert with_errors >= 48, with_errors      # ~90 % (10 % misdiagnosis)
    assert with_errors - no_errors >= 30, (with_errors, no_errors)


def test_proposals_keep_the_current_prompt(sim: SimLLM) -> None:
    base = "You are a careful logician. Evaluate the expression."
    for seed in range(10):
        new = propose(sim, request(base, failing_examples("double_negation", 2, seed)), seed)
        assert new["suggestion"]["system_prompt"].startswith(base)
        assert isinstance(new["reasoning"], str) and new["reasoning"]


def test_already_taught_skills_are_not_re_added(sim: SimLLM) -> None:
    base = fixes("not_scope", "answer_format")
    for seed in range(10):
        new = propose(sim, request(base, failing_examples("not_scope", 2, seed)), seed)
        assert new["suggestion"]["system_prompt"].count(NOT_SCOPE.fix) == 1


def test_feedback_text_alone_is_evidence(sim: SimLLM) -> None:
    hits = 0
    for seed in range(20):
        text = request("Evaluate.", [], ask=JSON_ASK).replace(
            "Propose", "<feedback>The model ignored the parentheses.</feedback>\nPropose")
        new = propose(sim, text, seed)["suggestion"]["system_prompt"]
        hits += be.PROFILE.skill("parentheses").taught_by(new)
    assert hits >= 15, hits


def test_format_errors_are_diagnosed(sim: SimLLM) -> None:
    shown = [(i, f"So the expression evaluates to {e}.", e)
             for i, _, e in failing_examples("not_scope", 3, 1)]
    hits = sum(be.PROFILE.skill("answer_format").taught_by(
        propose(sim, request("Evaluate.", shown), s)["suggestion"]["system_prompt"])
        for s in range(20))
    assert hits >= 15, hits


@pytest.mark.parametrize("ask", [
    'Answer with a JSON object {"reasoning": "...", "improved_variable": "..."}',
    'Reply in JSON: {"reasoning": "...", "answer": "...", "suggestion": {"name": "value"}}',
    'Output JSON with keys "analysis" and "system_prompt".',
])
def test_json_replies_use_requested_keys(sim: SimLLM, ask: str) -> None:
    text = request("Evaluate.", failing_examples("not_scope", 2, 3), ask=ask + " Improve it.")
    obj = json.loads(sim.complete([{"role": "user", "content": text}]).text)
    values = [v for v in obj.values() if isinstance(v, str)]
    values += [v for d in obj.values() if isinstance(d, dict) for v in d.values()]
    assert any(NOT_SCOPE.taught_by(v) for v in values), obj
    if "suggestion" in obj:
        assert set(obj["suggestion"]) == {"system_prompt"}


def test_tag_and_plain_replies(sim: SimLLM) -> None:
    examples = failing_examples("not_scope", 2, 4)
    tagged = sim.complete([{"role": "user", "content": request(
        "Evaluate.", examples,
        ask="Rewrite the variable. Send the improved variable between <IMPROVED_VARIABLE> "
            "and </IMPROVED_VARIABLE>.")}]).text
    inner = tagged.split("<IMPROVED_VARIABLE>")[1].split("</IMPROVED_VARIABLE>")[0]
    assert inner.strip().startswith("Evaluate.") and NOT_SCOPE.taught_by(inner)
    plain = sim.complete([{"role": "user", "content": request(
        "Evaluate.", examples, ask="Reply with the revised prompt only.")}]).text
    assert plain.startswith("Evaluate.") and NOT_SCOPE.taught_by(plain)


@pytest.mark.parametrize("why", ["", ", the model applied and and or left to right"])
def test_opto_style_request(sim: SimLLM, why: str) -> None:
    (item, out, exp), = failing_examples("and_before_or", 1, 5)
    text = ("#Instruction\nYou need to change the values of #Variables to improve #Feedback.\n"
            "#Variables\n(str) instruction=Evaluate the expression.\n(int) retries=2\n"
            f"#Inputs\n(str) question={item}\n#Outputs\n(str) answer={out}\n"
            f"#Feedback\nWrong: expected {exp}{why}.\n"
            '#Reply in JSON: {"reasoning": "...", "answer": "...", "suggestion": {...}}')
    obj = json.loads(sim.complete([{"role": "user", "content": text}]).text)
    assert be.PROFILE.skill("and_before_or").taught_by(obj["suggestion"]["instruction"])
    assert "retries" not in obj["suggestion"]


def test_request_boilerplate_is_not_evidence(sim: SimLLM) -> None:
    ask = ("Output format: answer in the following format, with the final answer in JSON. "
           'Reply in JSON with keys "reasoning" and "suggestion". Improve the prompt.')
    fmt = be.PROFILE.skill("answer_format")
    picked = sum(fmt.taught_by(propose(sim, request("Evaluate.", [], ask=ask), s)
                               ["suggestion"]["system_prompt"]) for s in range(40))
    assert picked <= 12, picked  # a guess: about 1 in 10 (half generic, 1 of 5 skills)


def test_critique_names_the_missing_skill(sim: SimLLM) -> None:
    (item, out, exp), = failing_examples("double_negation", 1, 6)
    text = (f"<LM_SYSTEM_PROMPT>Evaluate.</LM_SYSTEM_PROMPT>\n<LM_INPUT>{item}</LM_INPUT>\n"
            f"<LM_OUTPUT>{out}</LM_OUTPUT>\n<FEEDBACK>Incorrect, expected {exp}.</FEEDBACK>\n"
            "Give feedback on the system prompt: criticize how it could be improved.")
    named = sum(be.PROFILE.skill("double_negation").taught_by(
        sim.complete([{"role": "user", "content": text}], seed=s).text) for s in range(20))
    assert named >= 15, named
    blind = sum(be.PROFILE.skill("double_negation").taught_by(sim.complete(
        [{"role": "user", "content": "Give feedback on this prompt: Evaluate. It failed."}],
        seed=s).text) for s in range(20))
    assert named - blind >= 10, (named, blind)


def test_critique_then_optimizer_chain(sim: SimLLM) -> None:
    """TextGrad-style: a critique shown as feedback (no outputs) steers the proposal."""
    hits = 0
    for seed in range(20):
        (item, out, exp), = failing_examples("parentheses", 1, 100 + seed)
        critique = sim.complete([{"role": "user", "content": (
            f"<LM_INPUT>{item}</LM_INPUT><LM_OUTPUT>{out}</LM_OUTPUT>"
            f"<FEEDBACK>expected {exp}</FEEDBACK>\nCriticize the system prompt.")}], seed=seed).text
        text = request("Evaluate.", [], ask=f"<feedback>{critique}</feedback>\n{JSON_ASK}")
        new = propose(sim, text, seed)["suggestion"]["system_prompt"]
        hits += be.PROFILE.skill("parentheses").taught_by(new)
    assert hits >= 14, hits
