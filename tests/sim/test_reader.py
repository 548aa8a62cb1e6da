"""The structured reader: one piece of information, many syntaxes, one diagnosis.

Each request below shows the same failing items, outputs and feedback in a different
syntax (tags, OPTO sections with a glossary and a numbered batch, TextGrad-like tags,
`[[ ## field ## ]]` blocks with JSON, a markdown table, `Label:` lines); the sim's
`diagnose` must read the same items and answers, find the same evidence, and aim at
the same skill. The wording of these requests is written for these tests.
"""

from __future__ import annotations

import pytest

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.sim import SimLLM
from undertow.bench.sim.reader import field_kind, read_fields
from undertow.bench.tasks.reasoning import boolean_expressions as be

from .test_optimizer_role import failing_examples

SIM = SimLLM([be.PROFILE])
PROMPT = "Evaluate the boolean expression."
EXAMPLES = failing_examples("and_before_or", 3, 11)
WANT = ("boolean_expressions.and_before_or",)


def ours(examples=EXAMPLES, labels=("input", "output", "expected", "feedback"),
         ask="Propose a new value of the variable. Reply in JSON with keys \"reasoning\" and "
             "\"suggestion\".") -> list[dict]:
    blocks = "\n".join(
        f"<example>\n<{labels[0]}>{i}</{labels[0]}>\n<{labels[1]}>{o}</{labels[1]}>\n"
        f"<{labels[2]}>{e}</{labels[2]}>\n<{labels[3]}>Wrong.</{labels[3]}>\n</example>"
        for i, o, e in examples)
    return [{"role": "user", "content":
             f'<variable name="system_prompt" kind="text">{PROMPT}</variable>\n{blocks}\n{ask}'}]


def opto_batch() -> list[dict]:
    glossary = ("Sections you will see:\n- #Inputs: the inputs of the program.\n"
                "- #Outputs: the outputs the program produced.\n"
                "- #Feedback: the feedback about the outputs.\n"
                "Reply in JSON with keys \"reasoning\" and \"suggestion\".")
    code = "\n".join(f"call{k} = llm(prompt=prompt, question=question{k})"
                     for k in range(len(EXAMPLES)))
    inputs = "\n".join(f"(str) question{k}={i}" for k, (i, _, _) in enumerate(EXAMPLES))
    outs = [o for _, o, _ in EXAMPLES]
    others = "\n".join(f"(str) call{k}={o}" for k, o in enumerate(outs))
    fb = "\n".join(f"ID [{k}]: Wrong, the right answer is {e}." for k, (_, _, e) in enumerate(EXAMPLES))
    user = (f"#Instruction\nChange the values in #Variables so the outputs improve.\n\n#Code\n{code}\n\n"
            f"#Variables\n(str) prompt={PROMPT}\n\n#Inputs\n{inputs}\n\n#Others\n{others}\n\n"
            f"#Outputs\n(list) collect0={outs!r}\n\n#Feedback\n{fb}\n")
    return [{"role": "system", "content": glossary}, {"role": "user", "content": user}]


def dspy_like() -> list[dict]:
    rows = [{"question": i, "model_answer": o, "gold": e, "feedback": "wrong"} for i, o, e in EXAMPLES]
    system = ("Inputs: `current_instruction`, `failures`. Output fields are:\n1. `new_instruction`\n"
              "[[ ## current_instruction ## ]]\n{current_instruction}\n[[ ## failures ## ]]\n{failures}\n"
              "[[ ## new_instruction ## ]]\n{new_instruction}\n[[ ## completed ## ]]")
    user = (f"[[ ## current_instruction ## ]]\n{PROMPT}\n\n[[ ## failures ## ]]\n{json.dumps(rows)}\n\n"
            "Respond with the field `[[ ## new_instruction ## ]]`, then the marker `[[ ## completed ## ]]`.")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def table() -> list[dict]:
    rows = "\n".join(f"| {i} | {o} | {e} | incorrect |" for i, o, e in EXAMPLES)
    return [{"role": "user", "content":
             f"Current prompt: <prompt>{PROMPT}</prompt>\n\n| Question | Prediction | Target | Feedback |\n"
             f"|---|---|---|---|\n{rows}\n\nWrite an improved prompt between <new_prompt> and "
             "</new_prompt> tags."}]


def label_lines() -> list[dict]:
    shown = "\n\n".join(f"Question: {i}\nModel answer: {o}\nCorrect answer: {e}\nFeedback: wrong"
                        for i, o, e in EXAMPLES)
    return [{"role": "system", "content": "You rewrite prompts. Reply in JSON with key \"new_prompt\"."},
            {"role": "user", "content": f"<instruction>{PROMPT}</instruction>\n\n{shown}\n\n"
                                        "Propose a revised prompt."}]


def test_every_syntax_gives_the_same_diagnosis() -> None:
    base = SIM.diagnose(ours())
    assert base.role == "optimize" and base.evidence is True
    assert tuple(base.skills) == WANT
    assert len([i for i in base.items if i.item]) == len(EXAMPLES)
    for name, msgs in [("opto", opto_batch()), ("dspy", dspy_like()), ("table", table()),
                       ("labels", label_lines())]:
        got = SIM.diagnose(msgs)
        assert got.key() == base.key(), (name, got)


def test_a_numbered_batch_pairs_each_item_with_its_own_output() -> None:
    d = SIM.diagnose(opto_batch())
    by_item = {i.item: i.answer for i in d.items}
    for item, out, _ in EXAMPLES:
        assert by_item[item] == out


def test_glossary_lines_are_not_data() -> None:
    fields = read_fields([("system", ("- #Feedback: the feedback about the execution result.\n"
                                      "- Output: the output of the program.")),
                          ("user", "#Feedback\nthe model applied and and or left to right")])
    fb = [f for f in fields if f.kind == "feedback"]
    assert [f.value for f in fb] == ["the model applied and and or left to right"]
    assert not any(f.kind == "output" for f in fields)


def test_system_instructions_never_give_data_the_user_carries() -> None:
    (item, out, _), = EXAMPLES[:1]
    msgs = [{"role": "system", "content": "Example format:\nQuestion: True or False is\nAnswer: True"},
            {"role": "user", "content": f"Question: {item}\nAnswer: {out}\nCritique the answer."}]
    fields = read_fields([(m["role"], m["content"]) for m in msgs])
    assert all(f.role == "user" for f in fields if f.kind in ("input", "output"))


def test_critique_versus_new_value_is_chosen_by_what_is_asked() -> None:
    (item, out, _), = EXAMPLES[:1]
    shown = f"<PROMPT>{PROMPT}</PROMPT>\n<QUESTION>{item}</QUESTION>\n<RESPONSE>{out}</RESPONSE>"
    critique = SIM.diagnose([{"role": "system", "content":
                              "You give feedback on prompts. Do not propose a new version."},
                             {"role": "user", "content": shown + "\nGive feedback on the prompt."}])
    assert critique.role == "critique" and critique.evidence is True
    new = SIM.diagnose([{"role": "user", "content": shown + "\nWrite the improved prompt."}])
    assert new.role == "optimize"


def test_fields_reply_has_markers_and_the_new_instruction() -> None:
    text = SIM.complete(dspy_like()).text
    assert text.startswith("[[ ## new_instruction ## ]]\n")
    assert text.rstrip().endswith("[[ ## completed ## ]]")
    body = text.split("]]\n", 1)[1].split("[[ ## completed")[0]
    assert be.PROFILE.skill("and_before_or").taught_by(body) or "\n" in body.strip()


def test_response_format_json_schema_sets_the_keys() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "r", "schema": {
        "type": "object", "properties": {"why": {"type": "string"}, "new_prompt": {"type": "string"}}}}}
    obj = json.loads(SIM.complete(ours(ask="Improve the prompt."), response_format=fmt).text)
    assert set(obj) == {"why", "new_prompt"}
    assert be.PROFILE.skill("and_before_or").taught_by(obj["new_prompt"]) or obj["new_prompt"]


def test_stats_count_evidence_and_guesses() -> None:
    sim = SimLLM([be.PROFILE])
    sim.complete(ours())
    sim.complete([{"role": "user", "content": f'<variable name="p">{PROMPT}</variable>\n'
                                              "Propose a new value of the variable."}])
    sim.complete([{"role": "user", "content": EXAMPLES[0][0]}])
    stats = sim.stats.to_dict()
    assert stats["by_role"] == {"optimize": 2, "answer": 1}
    assert stats["from_evidence"] == {"optimize": 1} and stats["guessed"] == {"optimize": 1}
    assert stats["optimizer_evidence_share"] == 0.5
    sim.stats.reset()
    assert sim.stats.evidence_share() is None


def test_judge_prefers_the_right_answer() -> None:
    (item, out, exp), = EXAMPLES[:1]
    msgs = [{"role": "user", "content": f"Question: {item}\nResponse A: {out}\nResponse B: {exp}\n\n"
                                        "Which response is better? Reply in JSON with keys "
                                        "\"reasoning\" and \"better\"."}]
    d = SIM.diagnose(msgs)
    assert d.role == "judge" and d.evidence is True
    assert json.loads(SIM.complete(msgs).text)["better"] == "B"


# -- fuzz: undertow's own convention, relabelled, reordered, reworded ------------------------
SYNONYMS = {
    "input": ["input", "question", "query", "problem"],
    "output": ["output", "prediction", "response", "model_answer"],
    "expected": ["expected", "target", "gold", "reference"],
    "feedback": ["feedback", "critique", "evaluation", "comment"],
}
ASKS = ["Propose a new value of the variable. Reply in JSON with keys \"reasoning\" and \"suggestion\".",
        ("Suggest a revised version of the variable; answer in JSON with the keys \"reasoning\", "
         "\"suggestion\"."),
        "Improve the variable. Your reply must be JSON with keys \"reasoning\" and \"suggestion\"."]


@settings(max_examples=40, deadline=None)
@given(st.tuples(*[st.sampled_from(SYNONYMS[k]) for k in ("input", "output", "expected", "feedback")]),
       st.permutations(range(len(EXAMPLES))), st.sampled_from(ASKS), st.booleans())
def test_fuzzed_own_convention_gives_the_same_diagnosis(labels, order, ask, ask_first) -> None:
    base = SIM.diagnose(ours()).key()
    examples = [EXAMPLES[k] for k in order]
    msgs = ours(examples, labels, ask)
    if ask_first:  # the instruction before the data, in a system message
        body = msgs[0]["content"].replace(ask, "")
        msgs = [{"role": "system", "content": ask}, {"role": "user", "content": body}]
    assert SIM.diagnose(msgs).key() == base


@given(st.text(max_size=40))
def test_field_kind_never_fails(label: str) -> None:
    assert field_kind(label) in ("input", "output", "expected", "feedback", "other")


def test_diagnose_draws_nothing_and_counts_nothing() -> None:
    sim = SimLLM([be.PROFILE])
    a, b = sim.diagnose(ours()), sim.diagnose(ours())
    assert a == b and sim.stats.to_dict()["requests"] == 0
    random.Random(0)  # diagnose takes no rng at all


def _side(name: str, outputs: list[str]) -> str:
    shown = "\n".join(f"<example><input>{i}</input><output>{o}</output></example>"
                      for (i, _, _), o in zip(EXAMPLES, outputs, strict=True))
    return f'<response name="{name}">\n{shown}\n</response>'


def test_pairwise_judge_counts_right_outputs_per_side_without_position_bias() -> None:
    right = [e for _, _, e in EXAMPLES]
    wrong = [o for _, o, _ in EXAMPLES]
    mixed = right[:1] + wrong[1:]
    ask = ("Which response is better? Reply in JSON with keys \"reasoning\" and \"better\" "
           "(\"A\" or \"B\").")
    wins = {"A": 0, "B": 0}
    for seed in range(40):
        for first, second, better in ((right, mixed, "A"), (mixed, right, "B")):
            msgs = [{"role": "user", "content": "Two assistants answered the same inputs.\n"
                     f"{_side('A', first)}\n{_side('B', second)}\n{ask}"}]
            d = SIM.diagnose(msgs)
            assert d.role == "judge" and d.evidence is True
            reply = json.loads(SIM.complete(msgs, seed=seed).text)
            assert set(reply) == {"reasoning", "better"}
            got = reply["better"]
            wins[got] += got == better
    assert wins["A"] >= 36 and wins["B"] >= 36  # both orders, noise 5 %
    tie = [{"role": "user", "content": f"{_side('A', right)}\n{_side('B', right)}\n{ask}"}]
    assert SIM.diagnose(tie).evidence is False


def test_input_expected_demonstrations_are_weaker_evidence_than_failures() -> None:
    demos = "\n".join(f"<example><input>{i}</input><expected>{e}</expected></example>"
                      for i, _, e in EXAMPLES)
    msgs = [{"role": "user", "content": f'<variable name="instruction" kind="text"></variable>\n'
             f"{demos}\nWrite the instruction that turns each input into its expected output. "
             "Reply in JSON with keys \"reasoning\" and \"suggestion\"."}]
    d = SIM.diagnose(msgs)
    assert d.role == "optimize" and d.evidence is True
    assert "boolean_expressions.and_before_or" in d.skills


def test_judging_words_in_a_prompt_do_not_make_an_answer_a_judgement() -> None:
    item = EXAMPLES[0][0]
    msgs = [{"role": "system", "content": "Compare the operators and score the terms carefully; "
                                          "which comes first is better decided by precedence."},
            {"role": "user", "content": item}]
    assert SIM.diagnose(msgs).role == "answer"


# -- a fenced instruction, fenced examples, a reply asked inside ``` fences -------------------
FENCE_ASKS = ["Put the new instruction within ``` blocks.",
              "Write the improved instruction inside triple backticks.",
              "Give the revised instruction in a markdown code block."]


def fenced(ask: str, intro: str = "Here are the instructions the model was given:") -> list[dict]:
    shown = "\n\n".join(f"## Input\n{i}\n\n## Model output\n{o}\n\n## Feedback\nWrong, expected {e}."
                        for i, o, e in EXAMPLES)
    return [{"role": "user", "content":
             f"{intro}\n```\n{PROMPT}\n```\n\nSome of its replies, each with feedback:\n```\n{shown}\n```\n\n"
             f"Write a new instruction for the model that fixes these mistakes. {ask}"}]


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(FENCE_ASKS), st.sampled_from([
    "Here are the instructions the model was given:", "The current prompt is as follows:",
    "I gave an assistant this instruction:"]))
def test_a_fenced_instruction_is_the_variable_and_the_reply_is_fenced(ask, intro) -> None:
    """A request that shows its instruction in ``` fences and asks for a new one in fences
    is an optimizer request with the same reading as undertow's own, and the text between
    the reply's first and last fence is the revised instruction (the old one kept)."""
    msgs = fenced(ask, intro)
    d = SIM.diagnose(msgs)
    assert d.key() == SIM.diagnose(ours()).key()
    assert d.reply_format == "fence" and len(d.variables) == 1
    text = SIM.complete(msgs).text
    assert text.count("```") >= 2
    new = text[text.index("```") + 3: text.rindex("```")].strip()
    assert new.startswith(PROMPT) and new != PROMPT
    # the sim's revision is drawn (it may aim at another skill), but it teaches one
    assert any(s.taught_by(new) and not s.taught_by(PROMPT) for s in be.PROFILE.skills)


def test_the_last_field_of_a_fenced_block_ends_at_its_fence() -> None:
    """The request's own words after the closing fence are not the last item's feedback."""
    fb = [f.value.strip() for f in read_fields([("user", fenced(FENCE_ASKS[0])[0]["content"])])
          if f.kind == "feedback"]
    assert fb and fb[-1] == f"Wrong, expected {EXAMPLES[-1][2]}."


def test_a_critique_asked_in_fences_is_a_fenced_critique() -> None:
    msgs = [{"role": "user", "content": fenced("")[0]["content"].rsplit("Write", 1)[0]
             + "Give feedback on the instruction, inside triple backticks."}]
    d = SIM.diagnose(msgs)
    assert d.role == "critique" and d.reply_format == "fence"
    text = SIM.complete(msgs).text
    assert text.startswith("```\n") and text.rstrip().endswith("```")


@pytest.mark.parametrize("label, kind", [
    ("Read the outputs critically", "other"),  # a sentence that mentions outputs
    ("Check the expected answer carefully", "other"),
    ("Model output", "output"), ("Expected answer", "expected"), ("Outputs", "output"),
    ("Question 3", "input"), ("LM_output", "output"), ("OUTPUT_OF_FUNCTION", "output")])
def test_a_label_is_named_by_its_head_not_by_a_word_it_mentions(label, kind):
    from undertow.bench.sim.reader import field_kind

    assert field_kind(label) == kind
