"""What the runner drives: a task built for one seed (`TaskRun`), and the two kinds
bundled so far, numeric DAG problems and the reasoning tasks.

A `TaskRun` owns the agent (its trainable parameters) and knows how to do one
training step (`run_step`: forward on a minibatch, feedback, backward, optimizer
step) and how to score the agent on a held-out split (`evaluate`). The runner only
calls these, so a new task needs one class like these and one registry entry.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits, get_task, make_splits
from undertow.engine import (
    Feedback,
    Node,
    Parameter,
    Propagator,
    TextualPropagator,
    backward,
)
from undertow.engine.llm import LLM, llm_call
from undertow.optimizers import Optimizer

Split = Literal["val", "test"]


# What a user or a test harness says about one output: a sentence that carries a
# score (`Feedback(sentence, score=...)`), read as text or as a number by optimizers.


@dataclass(frozen=True)
class SplitSizes:
    """How many items each split holds."""

    n_train: int = 30
    n_val: int = 20
    n_test: int = 50


@dataclass
class TaskContext:
    """Everything a task needs to build its agent for one run."""

    seed: int
    llm: LLM | None          # budgeted: the agent's forward calls during training
    eval_llm: LLM | None     # unbudgeted: scoring on val/test
    sizes: SplitSizes
    batch_size: int
    propagator: str          # "subgraph", "numeric" or "textual" (from the optimizer entry)
    data_dir: str | None = None  # the real-data tasks' folder (--data-dir), else $UNDERTOW_DATA_DIR
    run_dir: str | None = None   # this run's folder: where optimizers and tasks keep files (a library, plots)
    steps: int = 5               # the run's step count (a stream spreads its items over them)


class TaskRun(Protocol):
    """One task, built for one seed: the agent and the hooks the runner calls."""

    parameters: list[Parameter]

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        """Forward on a minibatch, feedback, backward, `optimizer.step()`, zero feedback."""

    def evaluate(self, split: Split) -> float:
        """The metric on a held-out split (higher is better)."""

    def trace(self) -> Node | list[Node]:
        """Outputs of one traced forward pass, for drawing the graph."""

    # Set by the runner before the optimizer is built: `run_seed`, the run's seed (an
    # optimizer factory that seeds its own sampler reads it, so seeds differ per run).
    # Optional: a run whose agent keeps state of its own across steps (a stream's position)
    # defines `state_dict() -> dict` and `load_state_dict(dict)`; the runner checkpoints it
    # with the optimizer's and restores it on resume and when a step is dropped.


def _propagator(name: str, llm: LLM | None) -> Propagator | str:
    if name == "textual":
        if llm is None:
            raise ValueError("the textual propagator needs an LLM; run the task with --llm")
        return TextualPropagator(llm)
    return name


# -- numeric DAG ----------------------------------------------------------------------
def dag_splits(seed: int, sizes: SplitSizes) -> Splits:
    """One problem per seed: every split is that problem (its input is the seed)."""
    from undertow.bench.tasks.numeric_dag import generate

    dag = generate(seed)
    item = Example(input=f"numeric DAG problem {seed}", target=repr(dag.target), meta={"seed": seed})
    return Splits([item], [item], [item])


def dag_score(prediction: str, target: str) -> float:
    """Negative absolute error: 0 is solved, lower is worse."""
    return -abs(float(prediction) - float(target))


def dag_feedback(prediction: str, example: Example) -> Feedback:
    """The score, and only the direction the output should move (as in the Trace paper)."""
    score = dag_score(prediction, example.target)
    if score >= -1e-3:
        return Feedback("correct", score)
    return Feedback("larger" if float(prediction) < float(example.target) else "smaller", score)


class NumericDagRun:
    """Minimize |h(x) - y*| over the float inputs x of one random DAG, with the
    reference agent `undertow.agents.DagModel` (one float parameter per input)."""

    def __init__(self, ctx: TaskContext) -> None:
        from undertow.agents.numeric import DagModel
        from undertow.bench.tasks.numeric_dag import generate

        self.dag = generate(ctx.seed)
        self.model = DagModel(self.dag)
        self.parameters = self.model.parameters()
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        self.example = dag_splits(ctx.seed, ctx.sizes).train[0]

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        output = self.model.output()
        if self.propagator == "numeric":
            backward(self.model.loss(output), 1.0, "numeric")
        else:
            backward(output, dag_feedback(repr(output.value), self.example), self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        return dag_score(repr(self.model.value()), self.example.target)

    def trace(self) -> Node:
        return self.model.forward()[1]


# -- reasoning tasks ------------------------------------------------------------------
INITIAL_PROMPT = "Answer the question."


def reasoning_feedback(name: str) -> Callable[[str, Example], Feedback]:
    """"Correct", or "Wrong: expected X, got Y" (Y: the reply's last line, shortened)."""
    task = get_task(name)

    def feedback(prediction: str, example: Example) -> Feedback:
        score = task.score(prediction, example.target)
        if score >= 1.0:
            return Feedback("Correct", score)
        lines = [ln.strip() for ln in str(prediction).splitlines() if ln.strip()]
        got = lines[-1] if lines else "(an empty reply)"
        got = got if len(got) <= 160 else got[:157] + "..."
        return Feedback(f"Wrong: expected {example.target}, got {got}", score)

    return feedback


def _messages(system: str, user: str) -> list[dict[str, str]]:
    """The messages `llm_call` sends, so scoring and training share cache entries."""
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": user}]


class ReasoningRun:
    """The chain-of-thought agent (`undertow.agents.ChainOfThoughtQA`) on one reasoning task.

    Its instruction (a `text` parameter) is what optimizers train; its answer
    extractor stays fixed here, so prompt-only optimizers can run. Score = accuracy.
    """

    def __init__(self, name: str, ctx: TaskContext) -> None:
        if ctx.llm is None or ctx.eval_llm is None:
            raise ValueError(f"task {name} needs an LLM; pass --llm (e.g. --llm sim)")
        s = ctx.sizes
        self._set_up(name, ctx, get_task(name), make_splits(name, ctx.seed, s.n_train, s.n_val, s.n_test),
                     reasoning_feedback(name))

    def _set_up(self, name: str, ctx: TaskContext, task: Any, splits: Any,
                feedback: Callable[[str, Example], Feedback]) -> None:
        """The agent, its trainable instruction and the run's settings (shared with real-data runs)."""
        self.task = task
        self.splits = splits
        self.run_dir = ctx.run_dir
        self.llm, self.eval_llm = ctx.llm, ctx.eval_llm
        self.batch_size = ctx.batch_size
        self.feedback = feedback
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        from undertow.agents.cot_qa import ChainOfThoughtQA

        self.agent = ChainOfThoughtQA(ctx.llm, INITIAL_PROMPT)
        self.prompt = self.agent.instruction
        self.prompt.name = "system_prompt"
        self.prompt.description = f"the system prompt of an agent answering {name} items"
        self.parameters = [self.prompt]

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        train = self.splits.train
        batch = rng.sample(train, min(self.batch_size, len(train)))
        outs = [self.agent(ex.input) for ex in batch]
        backward(outs, [self.feedback(o.value, ex) for o, ex in zip(outs, batch)],
                 self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        items = self.splits.val if split == "val" else self.splits.test
        if not items:
            return 0.0
        assert self.eval_llm is not None
        replies = self.eval_llm.complete_many(
            [_messages(self.prompt.value, ex.input) for ex in items], purpose="eval")
        return sum(self.task.score(r.text, ex.target) for r, ex in zip(replies, items)) / len(items)

    def trace(self) -> Any:
        assert self.eval_llm is not None
        item = (self.splits.val or self.splits.train)[0]
        return llm_call(self.eval_llm, item.input, system=self.prompt)

    def candidate_evaluator(self) -> Callable[[str], Any]:
        """`evaluate(prompt)` for OPRO (see `reasoning_evaluate`)."""
        return reasoning_evaluate(self)

    def program(self) -> Any:
        """The agent as a `Program` (its prompt over the budgeted LLM, scored by the metric)."""
        from undertow.optimizers.program import PromptProgram

        fb = self.feedback
        return PromptProgram(self.prompt, self.llm, self.task.score,
                             feedback=lambda out, item, score: fb(out, Example(input=item.input, target=item.target)).sentence)


# -- Battleship -------------------------------------------------------------------------
class BattleshipRun:
    """A trainable firing policy (`code`), scored by the mean reward over boards."""

    def __init__(self, ctx: TaskContext) -> None:
        from undertow.agents.battleship import BattleshipPlayer
        from undertow.bench.tasks import battleship as bs

        self.bs = bs
        s = ctx.sizes
        self.splits = bs.make_splits(ctx.seed, max(1, min(s.n_train, 8)), max(1, min(s.n_val, 8)),
                                     max(1, min(s.n_test, 16)))
        self.batch_size = ctx.batch_size
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        self.player = BattleshipPlayer()
        self.parameters = self.player.parameters()

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        boards = rng.sample(self.splits.train, min(self.batch_size, len(self.splits.train)))
        outs = [self.player(self.bs.BattleshipGame(b)) for b in boards]
        backward(outs, [self.bs.feedback(o.value) for o in outs], self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        boards = self.splits.val if split == "val" else self.splits.test
        return self.bs.score(self.bs.run_policy(self.player.source, boards))

    def trace(self) -> Node:
        return self.player(self.bs.BattleshipGame(self.splits.train[0]))

    def candidate_evaluator(self) -> Callable[[str], Any]:
        """`evaluate(policy_source)` for OPRO (see `battleship_evaluate`)."""
        return battleship_evaluate(self)


def battleship_evaluate(agent: BattleshipRun, n: int = 4) -> Callable[[str], Any]:
    """An `evaluate(policy_source)` for OPRO: mean reward on training boards, with the game reports."""
    from undertow.optimizers.opro import Evaluation

    boards = agent.splits.train[:n]

    def evaluate(value: str) -> Any:
        results = agent.bs.run_policy(value, boards)
        reports = [{"input": f"board {b.seed}", "output": f"reward {r.reward:.3f}", "feedback": agent.bs.feedback(r)}
                   for b, r in zip(boards, results) if r.reward < 1.0]
        return Evaluation(agent.bs.score(results), reports)

    return evaluate


def reasoning_evaluate(agent: ReasoningRun, n: int = 12) -> Callable[[str], Any]:
    """An `evaluate(prompt)` for OPRO: accuracy on a fixed training sample, with the failures."""
    from undertow.optimizers.opro import Evaluation

    sample = agent.splits.train[:n]

    def evaluate(value: str) -> Any:
        replies = agent.llm.complete_many([_messages(value, ex.input) for ex in sample], purpose="optimizer")
        failures, total = [], 0.0
        for r, ex in zip(replies, sample):
            s = agent.task.score(r.text, ex.target)
            total += s
            if s < 1.0:
                failures.append({"input": ex.input, "output": r.text, "expected": ex.target})
        return Evaluation(total / len(sample), failures)

    return evaluate


# -- traffic signal ---------------------------------------------------------------------
class TrafficRun:
    """Two integer green times of one intersection, held by the reference agent
    `undertow.agents.SignalController` (starting at the fixed cycle); the score is minus
    the delay per car."""

    def __init__(self, ctx: TaskContext) -> None:
        from undertow.agents.signal_controller import SignalController
        from undertow.bench.tasks import traffic

        self.traffic = traffic
        self.scenario = traffic.generate(ctx.seed)
        self.agent = SignalController(*traffic.FIXED_CYCLE)
        self.parameters = self.agent.parameters()
        self.propagator = _propagator(ctx.propagator, ctx.llm)

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        out = self.agent.plan(self.scenario)
        fb = self.scenario.feedback(out.value)
        backward(out, Feedback(str(fb["text"]), float(fb["score"])), self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        return -self.scenario.simulate(*self.agent.greens)["delay"]

    def trace(self) -> Node:
        return self.agent.plan(self.scenario)


# -- code repair --------------------------------------------------------------------------
class CodeRepairRun:
    """One buggy function per seed, as a `CodeAgent`; the score is its test pass rate."""

    def __init__(self, ctx: TaskContext) -> None:
        from undertow.agents.code_agent import CodeAgent
        from undertow.bench.tasks import code_repair

        self.cr = code_repair
        self.problem = code_repair.PROBLEMS[ctx.seed % len(code_repair.PROBLEMS)]
        self.agent = CodeAgent(self.problem.buggy, description=self.problem.description)
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        self.parameters = self.agent.parameters()

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        score, report, outputs = self.cr.run_tests(self.problem, self.agent)
        backward(outputs, [Feedback(report, score)] * len(outputs), self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        return self.cr.run_tests(self.problem, self.agent)[0]

    def trace(self) -> Any:
        return self.cr.run_tests(self.problem, self.agent)[2]

    def candidate_evaluator(self) -> Callable[[str], Any]:
        """`evaluate(source)` for OPRO: the pass rate of a candidate, with the failing tests."""
        from undertow.agents.code_agent import CodeAgent
        from undertow.optimizers.opro import Evaluation

        def evaluate(value: str) -> Any:
            score, report, _ = self.cr.run_tests(self.problem, CodeAgent(value))
            failing = [{"input": line[5:], "feedback": line} for line in report.splitlines() if line.startswith("FAIL")]
            return Evaluation(score, failing)

        return evaluate
