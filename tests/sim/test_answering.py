"""The answering role: determinism, no side channel, and accuracy that follows the prompt."""

from __future__ import annotations

import random

from undertow.bench.sim import SimLLM, SimReply
from undertow.bench.tasks.reasoning import boolean_expressions as be

from .conftest import fixes

ITEMS = [be.generate(random.Random(1000 + i)) for i in range(200)]
FULL = fixes("not_scope", "and_before_or", "parentheses", "double_negation", "answer_format")


def ask(sim: SimLLM, system: str, item: str, **kw) -> SimReply:
    return sim.complete([{"role": "system", "content": system},
                         {"role": "user", "content": item}], **kw)


def accuracy(sim: SimLLM, system: str, items=ITEMS) -> float:
    return sum(be.score(ask(sim, system, ex.input).text, ex.target) for ex in items) / len(items)


def test_same_messages_and_seed_same_reply(sim: SimLLM) -> None:
    for ex in ITEMS[:20]:
        assert ask(sim, "", ex.input) == ask(sim, "", ex.input)
        assert ask(sim, "", ex.input, temperature=0.7, sample_index=3) == \
            ask(SimLLM(sim.profiles), "", ex.input, temperature=0.7, sample_index=3)


def test_seed_and_samples_vary_the_replies(sim: SimLLM) -> None:
    base = [ask(sim, "", ex.input).text for ex in ITEMS[:60]]
    other_seed = [ask(sim, "", ex.input, seed=99).text for ex in ITEMS[:60]]
    assert base != other_seed
    # At temperature 0 the sample index does not matter; above it, it does.
    assert base == [ask(sim, "", ex.input, sample_index=5).text for ex in ITEMS[:60]]
    hot = [[ask(sim, "", ex.input, temperature=1.0, sample_index=k).text for ex in ITEMS[:60]]
           for k in (0, 1)]
    assert hot[0] != hot[1]


def test_no_side_channel(sim: SimLLM, parity) -> None:
    # Loading another task's profile changes nothing for items it does not recognize.
    both = SimLLM([parity, *sim.profiles])
    for ex in ITEMS[:40]:
        for system in ("", FULL):
            assert ask(both, system, ex.input) == ask(sim, system, ex.input)


def test_other_profile_is_used_for_its_items(parity) -> None:
    sim = SimLLM([parity, *SimLLM([be.PROFILE]).profiles])
    reply = ask(sim, "Count the ones. Answer: X on the last line.", "the parity of 0110 is")
    assert reply.text.endswith("Answer: even")


def test_prompt_with_cues_scores_clearly_higher(sim: SimLLM) -> None:
    empty, full = accuracy(sim, ""), accuracy(sim, FULL)
    assert full >= 0.85, full
    assert full - empty >= 0.3, (empty, full)
    # Each half of the teaching helps: skills alone and format alone beat nothing.
    skills_only = accuracy(sim, fixes("not_scope", "and_before_or", "parentheses",
                                      "double_negation"))
    format_only = accuracy(sim, fixes("answer_format"))
    assert empty < skills_only < full and empty < format_only < full


def test_missing_skill_gives_the_characteristic_error(sim: SimLLM) -> None:
    needing = [ex for ex in ITEMS if ex.meta["skills"] == ["not_scope"]]
    assert len(needing) >= 20
    without = fixes("and_before_or", "parentheses", "double_negation", "answer_format")
    wrong = [ask(sim, without, ex.input).text.split("Answer: ")[-1] for ex in needing]
    expected_wrong = [be.PROFILE.answer_without(ex.input, frozenset({"not_scope"}))
                      for ex in needing]
    share = sum(w == e for w, e in zip(wrong, expected_wrong, strict=True)) / len(needing)
    assert share >= 0.6, share


def test_json_format_request_in_forward_prompt(sim: SimLLM) -> None:
    import json

    reply = ask(sim, 'Reply in JSON: {"reasoning": "...", "answer": "True or False"}',
                ITEMS[0].input)
    obj = json.loads(reply.text)
    assert set(obj) == {"reasoning", "answer"} and obj["answer"] in ("True", "False")


def test_max_tokens_and_usage(sim: SimLLM) -> None:
    long_prompt = FULL + " " + fixes("answer_format")
    full = ask(sim, long_prompt + " Think step by step.", ITEMS[3].input)
    assert full.finish_reason == "stop" and full.completion_tokens > 3
    assert full.prompt_tokens > len(long_prompt) // 8
    cut = ask(sim, long_prompt + " Think step by step.", ITEMS[3].input, max_tokens=3)
    assert cut.finish_reason == "length" and cut.completion_tokens <= 3
    assert full.text.startswith(cut.text)


def test_no_task_item_gets_a_generic_reply(sim: SimLLM) -> None:
    reply = sim.complete([{"role": "user", "content": "Hello there"}])
    assert reply.text and reply.finish_reason == "stop"


def test_a_question_of_no_bundled_task_is_answered_with_a_clarification_and_warned_once(caplog):
    """A first try with one's own question gets the clarification reply, and the log says
    why (once per process), naming where the sim's scope is written down."""
    import logging

    from undertow.bench.sim import llm as sim_llm
    from undertow.engine.llm import make_llm

    sim_llm._WARNED.discard("no_task")
    client = make_llm("sim", cache_dir=False)
    with caplog.at_level(logging.WARNING, logger="undertow.bench.sim.llm"):
        first = client.complete("What is the capital of Peru?").text
        client.complete("Name three rivers in Europe.")
    warned = [r for r in caplog.records if "found no item of a bundled task" in r.getMessage()]
    assert first == sim_llm.NO_TASK_REPLY
    assert len(warned) == 1 and "docs/sim.md" in warned[0].getMessage()
    assert "capital of Peru" in warned[0].getMessage()
