"""Property tests: arbitrary messages never crash the simulator; parsers accept any text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim import SimLLM, SimReply
from undertow.bench.sim.request import parse_blocks, parse_format, parse_variables
from undertow.bench.sim.tokens import count_tokens, truncate
from undertow.bench.tasks.reasoning import boolean_expressions as be

SIM = SimLLM([be.PROFILE])
# Text biased towards the sim's own vocabulary, so that parsers meet near-valid requests.
fragments = st.sampled_from([
    "<variable name=\"p\" kind=\"text\">", "</variable>", "<example>", "</example>",
    "<input>", "</input>", "Output:", "Expected:", "Feedback:", "JSON", '"reasoning":',
    '{"suggestion": ', "}", "improve", "critique", "not ( True ) and False is", "True", "or",
    "<IMPROVED_VARIABLE>", "</IMPROVED_VARIABLE>", "#Variables\n(str) x=", "\n", " ",
    "Answer: ", "step by step", "the parity of 01 is",
])
texts = st.one_of(st.text(max_size=200),
                  st.lists(st.one_of(fragments, st.text(max_size=10)), max_size=25).map("".join))
messages = st.lists(st.fixed_dictionaries({
    "role": st.one_of(st.sampled_from(["system", "user", "assistant"]), st.text(max_size=5)),
    "content": st.one_of(texts, st.none(), st.lists(st.fixed_dictionaries(
        {"type": st.just("text"), "text": texts}), max_size=2)),
}), max_size=4)


@given(messages, st.integers(-5, 5), st.floats(0, 2), st.integers(0, 3),
       st.one_of(st.none(), st.integers(0, 50)))
def test_any_messages_give_a_reply(msgs, seed, temperature, sample, max_tokens) -> None:
    reply = SIM.complete(msgs, seed=seed, temperature=temperature, sample_index=sample,
                         max_tokens=max_tokens)
    assert isinstance(reply, SimReply)
    assert reply.completion_tokens == count_tokens(reply.text)
    if max_tokens is not None:
        assert reply.completion_tokens <= max_tokens
    assert reply == SIM.complete(msgs, seed=seed, temperature=temperature, sample_index=sample,
                                 max_tokens=max_tokens)


@given(texts)
def test_request_parsers_accept_any_text(text: str) -> None:
    for v in parse_variables(text):
        assert isinstance(v.value, str) and v.name
    assert parse_blocks(text)
    assert parse_format(text).kind in ("json", "tag", "plain", "fields")


@given(st.text(max_size=300), st.integers(0, 80))
def test_truncate_is_a_prefix_with_the_right_count(text: str, n: int) -> None:
    cut, was_cut = truncate(text, n)
    assert text.startswith(cut)
    assert count_tokens(cut) <= n
    assert was_cut == (count_tokens(text) > n)
