"""Bench entries for ToolChain* (A* tool agent) and its baselines on the tool world.

ToolChain* is a test-time search agent with a long-term memory, not a prompt
optimizer, so it enters the bench as a task of its own, `toolworld_search`, whose
"optimizers" choose the agent:

- `toolchain`: A* over tool-call plans; each training step solves a minibatch of
  training questions and keeps the plans the checker accepts in its plan memory
  (the run's one parameter, a JSON list, so checkpoints carry the memory);
- `toolchain_nomem`: the same search with the memory off (ablation);
- `react_tools`: the ReAct agent, extra episodes + majority vote while the per-question
  call budget lasts; no memory;
- `tree_tools`: the test-time tree agent with ReAct rollouts as attempts; no memory.

All four answer each val/test question under the same per-question LLM-call budget
(`CALLS_PER_QUESTION`) and the shipped (flawed) tool docs; the score is the tool world's
checker. `undertow bench run -t toolworld_search -o toolchain,react_tools,tree_tools --llm sim`.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from typing import Any

from undertow.bench.registry import OptimizerEntry, TaskEntry, register_optimizer, register_task
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.tasks import Feedback, SplitSizes, TaskContext
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits
from undertow.engine import Parameter
from undertow.engine.llm import LLM
from undertow.optimizers import Optimizer, Proposal

TASK = "toolworld_search"
#: LLM calls each agent may spend on one val/test question
CALLS_PER_QUESTION = 24
#: seed offsets of the splits (world.tasks(seed * 10 + offset, n))
_OFFSETS = {"train": 1, "val": 2, "test": 3}
AGENTS = {"toolchain": "ToolChain*: A* over tool-call plans, LLM proposals + imagined remaining "
                       "steps, plan memory learnt from solved training questions",
          "toolchain_nomem": "ToolChain* with the plan memory off (ablation)",
          "react_tools": "ReAct with the tools; more episodes + majority vote within the call budget",
          "tree_tools": "test-time tree agent (LATS style): ReAct rollouts valued by self-critique"}


def _score(prediction: str, target: str) -> float:
    from undertow.bench.tasks.toolworld.tasks import check_answer

    return check_answer(target, prediction)


def tool_splits(seed: int, sizes: SplitSizes) -> Splits:
    """Questions of the tool world of ``seed``: train / val / test from distinct task seeds."""
    from undertow.bench.tasks.toolworld import make_world

    world = make_world(seed)
    parts = {}
    for name, n in (("train", sizes.n_train), ("val", sizes.n_val), ("test", sizes.n_test)):
        parts[name] = [Example(input=t.question, target=t.answer, meta={"id": t.id, "kind": t.kind})
                       for t in world.tasks(seed * 10 + _OFFSETS[name], n)]
    return Splits(parts["train"], parts["val"], parts["test"])


def _feedback(prediction: str, example: Example) -> Feedback:
    s = _score(prediction, example.target)
    return Feedback("Correct" if s >= 1.0 else f"Wrong: expected {example.target}", s)


class ToolSearchRun:
    """One seed of `toolworld_search`: the world, its splits, the agent the optimizer names."""

    def __init__(self, ctx: TaskContext) -> None:
        from undertow.bench.tasks.toolworld import make_world

        self.ctx = ctx
        self.world = make_world(ctx.seed)
        self.splits = tool_splits(ctx.seed, ctx.sizes)
        self.memory_param = Parameter([], kind="json", name="plan_memory",
                                      description="successful tool plans (question, call shapes) "
                                                  "that ToolChain* keeps")
        self.parameters = [self.memory_param]
        self.agent_name = ""
        self._dir = tempfile.mkdtemp(prefix="toolchain-memory-")
        self._memory: Any = None

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)

    def attach(self, agent_name: str) -> None:
        if agent_name not in AGENTS:
            raise BenchError(f"{TASK} runs the agents {', '.join(AGENTS)}, not {agent_name!r}")
        self.agent_name = agent_name

    def _memory_store(self) -> Any:
        """The plan memory, rebuilt from the parameter (so a resumed run has it back)."""
        from undertow.agents.plan_memory import PlanMemory

        if self._memory is None:
            self._memory = PlanMemory(f"{self._dir}/plans.sqlite", scope=TASK)
        have = len(self._memory)
        for item in self.memory_param.value[have:]:
            self._memory.remember(item["question"], [tuple(s) for s in item["steps"]])
        return self._memory

    def _solve(self, llm: LLM, questions: list[str]) -> list[tuple[str, Any]]:
        from undertow.agents.tool_baselines import react_solve, tree_solve
        from undertow.agents.toolchain import ToolChainAgent

        if self.agent_name in ("toolchain", "toolchain_nomem"):
            memory = self._memory_store() if self.agent_name == "toolchain" else None
            agent = ToolChainAgent(llm, self.world, k=3, budget=CALLS_PER_QUESTION, memory=memory)
            return [(r.answer, r) for r in agent.solve_many(questions)]
        solve = react_solve if self.agent_name == "react_tools" else tree_solve
        return [(a.answer, a) for a in solve(llm, self.world, questions, budget=CALLS_PER_QUESTION)]

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        if not self.agent_name:
            raise BenchError(f"{TASK} needs one of its agents as the optimizer: {', '.join(AGENTS)}")
        llm = self.ctx.llm
        if llm is None:
            raise BenchError(f"{TASK} needs an LLM: pass --llm (e.g. --llm sim)")
        # every agent answers a training minibatch (the forward calls the budget books);
        # only ToolChain* learns from it
        batch = rng.sample(self.splits.train, min(self.ctx.batch_size, len(self.splits.train)))
        solved = self._solve(llm, [e.input for e in batch])
        if self.agent_name == "toolchain":
            learnt = list(self.memory_param.value)
            for example, (answer, result) in zip(batch, solved):
                ok = [s for s in result.plan.steps if not s.error]
                if _score(answer, example.target) >= 1.0 and ok:
                    learnt.append({"question": example.input, "steps": [[s.tool, s.args] for s in ok]})
            self.memory_param.set(learnt)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: str) -> float:
        llm = self.ctx.eval_llm
        if llm is None:
            raise BenchError(f"{TASK} needs an LLM: pass --llm (e.g. --llm sim)")
        if not self.agent_name:
            raise BenchError(f"{TASK} needs one of its agents as the optimizer: {', '.join(AGENTS)}")
        items = self.splits.val if split == "val" else self.splits.test
        answers = self._solve(llm, [e.input for e in items])
        return sum(_score(a, e.target) for (a, _), e in zip(answers, items)) / max(1, len(items))

    def trace(self) -> Any:
        return self.memory_param


class AgentChoice(Optimizer):
    """The "optimizer" of `toolworld_search`: names the agent; ToolChain*'s learning (the plan
    memory) happens in the run's step, so this only logs the memory's current value."""

    def __init__(self, params: list[Parameter], agent_name: str) -> None:
        super().__init__(params)
        self.agent_name = agent_name

    def step(self) -> list[Proposal]:
        self.steps += 1
        return [self.propose(p, p.value, reason=f"{self.agent_name}: plan memory after this step")
                for p in self.parameters]


def _factory(name: str) -> Any:
    def build(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
        if not isinstance(agent, ToolSearchRun):
            raise BenchError(f"optimizer {name} runs on the task {TASK} only")
        agent.attach(name)
        return AgentChoice(params, name)
    return build


register_task(TaskEntry(
    name=TASK, family="tools",
    description="tool world questions answered by a test-time tool agent (ToolChain*, ReAct, tree) "
                f"at {CALLS_PER_QUESTION} LLM calls per question, shipped docs",
    metric="accuracy", kinds=frozenset({"json"}), uses_llm=True, splits=tool_splits,
    score=_score, feedback=_feedback, build=ToolSearchRun, optimizers=frozenset(AGENTS)))

for _name, _what in AGENTS.items():
    register_optimizer(OptimizerEntry(name=_name, description=_what, kinds=frozenset({"json"}),
                                      uses_llm=True, factory=_factory(_name)))
