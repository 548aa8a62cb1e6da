"""Malformed optimizer replies and constraint violations never reach a parameter."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.engine import Parameter
from undertow.engine.llm import LLM
from undertow.engine.llm.types import LLMRequest, Reply
from undertow.optimizers.search import BeamSearch, PromptMCTS

from .helpers import sim, task_setup

JUNK = ['{"suggestion": {"system_prompt": ""}}', '{"suggestion": 42}', "not json {",
        '{"reasoning": "x"}', "[1, 2]", '{"suggestion": {"a": "1", "b": "2"}}', ""]


class JunkBackend:
    """An external model that answers every request with malformed text (a fake LLM
    service, not a fake of our code: the client, optimizers and store all run)."""

    provider, endpoint = "junk", "junk://"

    def __init__(self, replies: list[str]) -> None:
        self.replies = replies

    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        text = self.replies[random.Random(str(request.messages)).randrange(len(self.replies))]
        return Reply(text=text, prompt_tokens=1, completion_tokens=1, model="junk")

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        return self.complete(request)

    def close(self) -> None:
        return None


@settings(max_examples=10)
@given(st.lists(st.sampled_from(JUNK) | st.text(max_size=30), min_size=1, max_size=4))
def test_junk_replies_leave_the_prompt_unchanged(replies: list[str]) -> None:
    task, splits = task_setup(n_train=10, n_val=10, n_test=1)
    junk = LLM(JunkBackend(replies), model="junk", cache=None)
    for cls in (PromptMCTS, BeamSearch):
        p = Parameter("Answer the question.", kind="text", name="system_prompt")
        opt = cls([p], llm=junk, task_llm=sim(), train=splits.train, val=splits.val,
                  score=task.score)
        opt.step()
        opt.step()
        # Only a non-empty string suggestion could become a prompt; junk never does.
        assert p.value == "Answer the question." or any(r.strip() and r.strip() in p.value
                                                        for r in replies)
        assert all(x.accepted for x in opt.log)


def test_rewrites_breaking_a_constraint_are_not_children() -> None:
    task, splits = task_setup()
    p = Parameter("Answer the question.", kind="text", name="system_prompt", max_length=60)
    opt = PromptMCTS([p], llm=sim(), train=splits.train, val=splits.val, score=task.score)
    for _ in range(3):
        opt.step()
    assert p.value == "Answer the question."            # every sim rewrite is longer
    assert all(len(x.prompt) <= 60 for _, x in opt.forest.payloads.tree_items(0))
    assert int(opt.forest.host("inflight").sum()) == 0
