"""The two-prompt bench task (`two_prompt`): `undertow.agents.RoutedQA` with a fixed router
sending boolean expressions and word sorting to their own trainable system prompts.

Items alternate between the two generators; each is scored by its own task's metric,
and feedback on an answer reaches only the prompt that produced it.
"""

from __future__ import annotations

import random
from typing import Any

from undertow.bench.runner.real import ScoredTask, feedback_from
from undertow.bench.runner.tasks import (
    INITIAL_PROMPT,
    Split,
    SplitSizes,
    TaskContext,
    _messages,
    _propagator,
)
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits, get_task, make_splits
from undertow.engine import backward
from undertow.engine.llm import llm_call
from undertow.optimizers import Optimizer

ROUTED_TASKS = {"logic": "boolean_expressions", "sorting": "word_sorting"}


def routed_splits(seed: int, sizes: SplitSizes) -> Splits:
    """Half boolean-expression items, half word-sorting items, interleaved, per split."""
    parts = {r: make_splits(t, seed, (sizes.n_train + 1) // 2, (sizes.n_val + 1) // 2, (sizes.n_test + 1) // 2)
             for r, t in ROUTED_TASKS.items()}

    def mix(a: list[Example], b: list[Example], n: int) -> list[Example]:
        return [x for pair in zip(a, b) for x in pair][:n]
    a, b = parts["logic"], parts["sorting"]
    return Splits(mix(a.train, b.train, sizes.n_train), mix(a.val, b.val, sizes.n_val),
                  mix(a.test, b.test, sizes.n_test))


def routed_route(question: str) -> str:
    """The fixed router: word-sorting questions to the sorting prompt, the rest to logic."""
    return "sorting" if question.lstrip().lower().startswith("sort the following words") else "logic"


def routed_score(prediction: str, target: str) -> float:
    """Each item by its own task's metric (boolean targets are True/False)."""
    task = "boolean_expressions" if target in ("True", "False") else "word_sorting"
    return get_task(task).score(prediction, target)


class RoutedRun:
    """A two-prompt program (`undertow.agents.RoutedQA`): logic questions and word-sorting
    questions each go to their own trainable system prompt."""

    def __init__(self, ctx: TaskContext) -> None:
        if ctx.llm is None or ctx.eval_llm is None:
            raise ValueError("task two_prompt needs an LLM; pass --llm (e.g. --llm sim)")
        from undertow.agents.routed_qa import RoutedQA

        self.splits = routed_splits(ctx.seed, ctx.sizes)
        self.llm, self.eval_llm, self.batch_size = ctx.llm, ctx.eval_llm, ctx.batch_size
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        self.agent = RoutedQA(ctx.llm, {r: INITIAL_PROMPT for r in ROUTED_TASKS}, routed_route)
        self.parameters = self.agent.parameters()
        self.task = ScoredTask("two_prompt", routed_score)
        self.feedback = feedback_from(self.task)

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        train = self.splits.train
        batch = rng.sample(train, min(self.batch_size, len(train)))
        outs = [self.agent(ex.input) for ex in batch]
        backward(outs, [self.feedback(o.value, ex) for o, ex in zip(outs, batch)], self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        items = self.splits.val if split == "val" else self.splits.test
        assert self.eval_llm is not None
        msgs = [_messages(self.agent.prompts[routed_route(ex.input)].value, ex.input) for ex in items]
        replies = self.eval_llm.complete_many(msgs, purpose="eval")
        return sum(routed_score(r.text, ex.target) for r, ex in zip(replies, items)) / len(items)

    def trace(self) -> Any:
        assert self.eval_llm is not None
        return [llm_call(self.eval_llm, ex.input, system=self.agent.prompts[routed_route(ex.input)])
                for ex in self.splits.val[:2]]

    def program(self) -> Any:
        """The agent as a `Program` scored by each item's task metric."""
        fb = self.feedback
        prog = self.agent.program(routed_score)
        prog.feedback_fn = lambda out, item, score: fb(out, Example(input=item.input, target=item.target)).sentence
        return prog


