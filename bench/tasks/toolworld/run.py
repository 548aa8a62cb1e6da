"""The tool world as a bench task: a ReAct agent whose tool docs are the trainable parameters.

Items are `ToolTask`s (question -> answer); the metric is task success. Feedback-driven
optimizers (OptoPrime, ...) see the agent's trace and "Correct"/"Wrong: expected X";
DRAFT ignores task feedback and refines the docs by probing the tools (one round per
runner step). The world's kv contents and the items depend on the run seed.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits
from undertow.bench.tasks.toolworld.tasks import check_answer
from undertow.bench.tasks.toolworld.world import ToolWorld, make_world
from undertow.engine import Feedback, backward, no_trace

Split = Literal["val", "test"]
#: item seeds per split, so no question occurs in two splits of one run
_SPLIT_SEEDS = {"train": 1_000, "val": 2_000, "test": 3_000}


def toolworld_splits(seed: int, sizes: Any) -> Splits:
    """Seeded train / val / test items for world `seed` (sizes: `SplitSizes`)."""
    world = make_world(seed)

    def items(split: str, n: int) -> list[Example]:
        return [Example(input=t.question, target=t.answer, meta={"kind": t.kind, "id": t.id,
                                                                 "plan": [list(p) for p in t.plan]})
                for t in world.tasks(_SPLIT_SEEDS[split] + seed, n)]

    return Splits(items("train", sizes.n_train), items("val", sizes.n_val), items("test", sizes.n_test))


def toolworld_score(prediction: str, target: str) -> float:
    """1.0 when the prediction states the answer (numbers to 1e-4 relative), else 0.0."""
    return check_answer(target, prediction)


def toolworld_feedback(prediction: str, example: Example) -> Feedback:
    """"Correct", or "Wrong: expected X, got Y"."""
    score = toolworld_score(prediction, example.target)
    if score >= 1.0:
        return Feedback("Correct", score)
    return Feedback(f"Wrong: expected {example.target}, got {str(prediction).strip()[:160]}", score)


class ToolWorldRun:
    """`DocReActAgent` over the tool world for one seed; parameters = one doc per tool."""

    def __init__(self, ctx: Any) -> None:
        from undertow.agents.doc_react import DocReActAgent
        from undertow.bench.runner.tasks import _propagator

        if ctx.llm is None or ctx.eval_llm is None:
            raise ValueError("task toolworld needs an LLM; pass --llm (e.g. --llm sim)")
        self.world: ToolWorld = make_world(ctx.seed)
        self.splits = toolworld_splits(ctx.seed, ctx.sizes)
        self.batch_size = ctx.batch_size
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        tools = self.world.callables()
        self.agent = DocReActAgent(ctx.llm, tools, self.world.docs())
        self.eval_agent = DocReActAgent(ctx.eval_llm, tools, self.world.docs())
        self.eval_agent.docs = self.agent.docs          # one set of doc parameters for both
        self.parameters = list(self.agent.docs.values())

    def probe(self, tool: str, args: str) -> str:
        """One call on the real tool (for exploration-based optimizers such as DRAFT)."""
        return str(self.world.call(tool, args))

    def run_step(self, optimizer: Any, rng: random.Random) -> None:
        from undertow.optimizers.draft import DRAFT

        if isinstance(optimizer, DRAFT):
            optimizer.step()            # exploration needs no task feedback
            return
        train = self.splits.train
        batch = rng.sample(train, min(self.batch_size, len(train)))
        outs = [self.agent(ex.input) for ex in batch]
        backward(outs, [toolworld_feedback(o.value, ex) for o, ex in zip(outs, batch)], self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        items = self.splits.val if split == "val" else self.splits.test
        if not items:
            return 0.0
        with no_trace():
            answers = [str(self.eval_agent(ex.input)) for ex in items]
        return sum(toolworld_score(a, ex.target) for a, ex in zip(answers, items)) / len(items)

    def trace(self) -> Any:
        item = (self.splits.val or self.splits.train)[0]
        return self.eval_agent(item.input)

    def docs(self) -> dict[str, str]:
        """The current docs (tool -> text)."""
        return {name: str(p.value) for name, p in self.agent.docs.items()}
