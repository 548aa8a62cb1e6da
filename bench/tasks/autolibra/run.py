"""The `autolibra` task as the bench runs it: the catalog agent, its trainable system
prompt, the feedback writer's text and score as feedback, and trajectories on demand
(for `undertow metrics export`)."""

from __future__ import annotations

import random
import re
from typing import Any

from undertow.bench.runner.tasks import SplitSizes, TaskContext, _propagator
from undertow.bench.tasks.autolibra import world, writer
from undertow.bench.tasks.autolibra.agent import INITIAL_PROMPT, CatalogAgent
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits
from undertow.engine import Feedback, Node, backward
from undertow.optimizers import Optimizer
from undertow.optimizers.metrics import Trajectory


def splits(seed: int, sizes: SplitSizes) -> Splits:
    """Seeded catalog questions (train / val / test)."""
    return Splits(*world.make_splits(seed, sizes.n_train, sizes.n_val, sizes.n_test))


def score(prediction: str, target: str) -> float:
    """Score of a final answer against "VALUE UNIT": 1 with the unit, 0.5 without, 0 wrong;
    minus 0.25 when over-long (the run's repeated calls are scored by `writer.score_trajectory`)."""
    value, _, symbol = target.partition(" ")
    if not re.search(rf"(?<![\d.]){re.escape(value)}(?!\d)", prediction):
        return 0.0
    unit_word = world.UNIT_WORDS.get(symbol, symbol)
    base = 1.0 if re.search(rf"\b{re.escape(symbol)}\b|{unit_word}", prediction) else 0.5
    return max(0.0, base - (0.25 if len(prediction.split()) > writer.VERBOSE_WORDS else 0.0))


def feedback(prediction: str, example: Example) -> Feedback:
    """Answer-only feedback (the runner's generic hook); runs use the writer on whole trajectories."""
    s = score(prediction, example.target)
    return Feedback("Correct" if s >= 1.0 else f"Score {s:.2f}: expected {example.target}", s)


def collect(agent: CatalogAgent, items: list[Example], prefix: str, seed: int,
            phrasings: str = "standard") -> list[tuple[Node, Trajectory]]:
    """Run the agent on `items`: (answer node, trajectory with the writer's feedback, its
    complaints worded from `writer.PHRASINGS[phrasings]`, and score)."""
    out = []
    for i, ex in enumerate(items):
        node, traj = agent.run(ex.input, f"{prefix}-{i}")
        traj = traj.model_copy(update={"feedback": writer.write_feedback(traj, ex.input, seed, phrasings),
                                       "score": writer.score_trajectory(traj, ex.input)})
        out.append((node, traj))
    return out


class AutoLibraRun:
    """One seed of the catalog agent task; the writer's feedback (text + score) trains the prompt."""

    def __init__(self, ctx: TaskContext, prompt: str = INITIAL_PROMPT) -> None:
        if ctx.llm is None or ctx.eval_llm is None:
            raise ValueError("task autolibra needs an LLM; pass --llm (e.g. --llm sim)")
        self.seed = ctx.seed
        self.splits = splits(ctx.seed, ctx.sizes)
        self.llm, self.eval_llm = ctx.llm, ctx.eval_llm
        self.batch_size = ctx.batch_size
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        self.agent = CatalogAgent(ctx.llm, prompt)
        self.prompt = self.agent.prompt
        self.parameters = [self.prompt]
        self.steps = 0

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        batch = rng.sample(self.splits.train, min(self.batch_size, len(self.splits.train)))
        runs = collect(self.agent, batch, f"train{self.steps}", self.seed)
        trajs = [t for _, t in runs]
        hook = getattr(optimizer, "feedback_for", None)  # MetricDriven: induced-metric feedback
        feedbacks = hook(trajs) if hook is not None else [Feedback(t.feedback, t.score) for t in trajs]
        backward([n for n, _ in runs], feedbacks, self.propagator)
        optimizer.step()
        optimizer.zero_feedback()
        self.steps += 1

    def trajectories(self, split: str = "test") -> list[Trajectory]:
        """The agent's trajectories on a split, with the writer's feedback (scoring LLM)."""
        items = {"train": self.splits.train, "val": self.splits.val}.get(split, self.splits.test)
        agent = CatalogAgent(self.eval_llm, self.prompt.value)
        return [t for _, t in collect(agent, items, split, self.seed)]

    def evaluate(self, split: Any) -> float:
        trajs = self.trajectories(split)
        return sum(t.score or 0.0 for t in trajs) / len(trajs) if trajs else 0.0

    def trace(self) -> Node:
        item = (self.splits.val or self.splits.train)[0]
        return self.agent.run(item.input, "trace")[0]
