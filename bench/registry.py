"""The one place that lists the bench's tasks and optimizers.

A task entry says how to cut seeded splits, the metric, the feedback (a score and a
sentence), which parameter kinds its agent trains, and how to build the agent for
one run (`TaskRun`, whose `run_step` the runner drives). An optimizer entry says
which parameter kinds it can change, which propagator its feedback needs, and how
to build it from `(parameters, llm, task)`. Adding an optimizer is one call:

    register_optimizer(OptimizerEntry(
        name="opro", description="OPRO: ...", kinds=frozenset({"text"}), uses_llm=True,
        factory=lambda params, llm, task, agent: OPRO(params, llm, evaluate)))

A task x optimizer pair runs when every parameter kind of the task is one the
optimizer handles (`compatible`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from undertow.bench.runner.errors import BenchError, unknown
from undertow.bench.runner.real import RealRun
from undertow.bench.runner.routed import RoutedRun, routed_score, routed_splits
from undertow.bench.runner.tasks import (
    BattleshipRun,
    CodeRepairRun,
    Feedback,
    NumericDagRun,
    ReasoningRun,
    SplitSizes,
    TaskContext,
    TaskRun,
    TrafficRun,
    dag_feedback,
    dag_score,
    dag_splits,
    reasoning_feedback,
)
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import TASK_NAMES, Splits, get_task, make_splits
from undertow.engine import KINDS, Parameter
from undertow.engine.llm import LLM
from undertow.optimizers import SGD, Adam, Optimizer

ALL_KINDS = frozenset(KINDS)
PROPAGATORS = ("subgraph", "numeric", "textual")


@dataclass(frozen=True)
class TaskEntry:
    """A bundled task, as the runner sees it."""

    name: str
    description: str
    metric: str                                            # what `score` measures
    kinds: frozenset[str]                                  # parameter kinds of the agent
    uses_llm: bool                                         # does the agent call an LLM?
    splits: Callable[[int, SplitSizes], Splits]            # seed -> train / val / test
    score: Callable[[str, str], float]                     # (prediction, target) -> score
    feedback: Callable[[str, Example], Feedback]           # (prediction, item) -> score, sentence
    build: Callable[[TaskContext], TaskRun]                # the agent and its run_step hook
    family: str = ""
    optimizers: frozenset[str] | None = None               # only these optimizers (None: any of its kinds)


@dataclass(frozen=True)
class OptimizerEntry:
    """A registered optimizer and how to build it for one run."""

    name: str
    description: str
    kinds: frozenset[str]                                  # parameter kinds it can change
    uses_llm: bool
    factory: Callable[[list[Parameter], LLM | None, TaskEntry, Any], Optimizer]  # (..., the TaskRun)
    propagator: str = "subgraph"                           # feedback it reads: subgraph/numeric/textual
    peer: str = ""                                         # another framework's optimizer: "dspy 3.4.1"
    families: frozenset[str] | None = None                 # only tasks of these families (None: any)
    tasks: frozenset[str] | None = None                    # only these tasks (None: any of its kinds)


TASKS: dict[str, TaskEntry] = {}
OPTIMIZERS: dict[str, OptimizerEntry] = {}


def register_task(entry: TaskEntry) -> TaskEntry:
    """Add a task; a second task of the same name is an error."""
    if entry.name in TASKS:
        raise ValueError(f"task {entry.name!r} is registered twice; pick another name")
    TASKS[entry.name] = entry
    return entry


def register_optimizer(entry: OptimizerEntry) -> OptimizerEntry:
    """Add an optimizer; a second one of the same name is an error."""
    if entry.name in OPTIMIZERS:
        raise ValueError(f"optimizer {entry.name!r} is registered twice; pick another name")
    if entry.propagator not in PROPAGATORS:
        raise ValueError(f"optimizer {entry.name!r}: propagator must be one of {PROPAGATORS}")
    OPTIMIZERS[entry.name] = entry
    return entry


def get_task_entry(name: str) -> TaskEntry:
    """The task called `name`, or a `BenchError` with close matches."""
    if name not in TASKS:
        raise unknown("task", name, TASKS)
    return TASKS[name]


#: Optimizers registered only when their extra is installed: name -> (module, extra, what).
NEEDS_EXTRA: dict[str, tuple[str, str, str]] = {"tpe": ("optuna", "tpe", "Optuna")}


def get_optimizer_entry(name: str) -> OptimizerEntry:
    """The optimizer called `name`, or a `BenchError` with close matches (or, for an
    optimizer whose extra is missing, the command that installs it)."""
    if name not in OPTIMIZERS and name in NEEDS_EXTRA:
        _, extra, what = NEEDS_EXTRA[name]
        raise BenchError(f"optimizer {name!r} needs {what}, which is not installed: "
                         f"pip install 'undertow[{extra}]'")
    if name not in OPTIMIZERS:
        raise unknown("optimizer", name, OPTIMIZERS)
    return OPTIMIZERS[name]


def compatible(task: TaskEntry, optimizer: OptimizerEntry) -> bool:
    """True when the optimizer can change every parameter kind the task trains (and neither
    entry restricts itself to others: `TaskEntry.optimizers`, `OptimizerEntry.families`
    and `OptimizerEntry.tasks`)."""
    if task.optimizers is not None and optimizer.name not in task.optimizers:
        return False
    if optimizer.tasks is not None and task.name not in optimizer.tasks:
        return False
    if optimizer.families is not None and task.family not in optimizer.families:
        return False
    return task.kinds <= optimizer.kinds


def pairs(tasks: Iterable[str], optimizers: Iterable[str]) -> list[tuple[str, str]]:
    """The compatible (task, optimizer) pairs of a grid; `BenchError` if there is none
    or a name is unknown."""
    ts = [get_task_entry(t) for t in tasks]
    os_ = [get_optimizer_entry(o) for o in optimizers]
    found = [(t.name, o.name) for t in ts for o in os_ if compatible(t, o)]
    if not found:
        detail = "; ".join(f"{o.name} changes {'/'.join(sorted(o.kinds))}" for o in os_)
        raise BenchError(f"no optimizer given can train these tasks ({detail}; the tasks train "
                         f"{'/'.join(sorted(set().union(*(t.kinds for t in ts))))}); "
                         "see `undertow bench list`")
    return found


# -- registrations ----------------------------------------------------------------------
def _keep(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.bench.runner.baseline import KeepOptimizer

    return KeepOptimizer(params)


def _reasoning_entry(name: str) -> TaskEntry:
    module: Any = get_task(name)
    doc = (module.__doc__ or name).strip().splitlines()[0].rstrip(".")
    return TaskEntry(
        name=name, family="reasoning", description=doc,
        metric="accuracy", kinds=frozenset({"text"}), uses_llm=True,
        splits=lambda seed, sizes: make_splits(name, seed, sizes.n_train, sizes.n_val, sizes.n_test),
        score=module.score, feedback=reasoning_feedback(name),
        build=partial(ReasoningRun, name))


register_task(TaskEntry(
    name="numeric_dag", family="numeric",
    description="Trace-paper numeric DAG: move float inputs x so h(x) hits a target",
    metric="-|h(x) - y*|", kinds=frozenset({"float"}), uses_llm=False,
    splits=dag_splits, score=dag_score, feedback=dag_feedback, build=NumericDagRun))
for _name in TASK_NAMES:
    register_task(_reasoning_entry(_name))


def _two_prompt_feedback(prediction: str, example: Example) -> Feedback:
    score = routed_score(prediction, example.target)
    return Feedback("Correct" if score >= 1.0 else f"Wrong: expected {example.target}", score)


register_task(TaskEntry(
    name="two_prompt", family="multi-parameter",
    description="two-prompt program: a fixed router sends boolean expressions and word sorting "
                "to their own trainable system prompts",
    metric="accuracy", kinds=frozenset({"text"}), uses_llm=True, splits=routed_splits,
    score=routed_score, feedback=_two_prompt_feedback, build=RoutedRun))


def _real_entry(name: str) -> TaskEntry:
    from undertow.bench.runner.real import real_splits, scorer, sim_note

    source = "GSM8K grade-school math (test split)" if name == "gsm8k" else f"BIG-Bench Hard {name[4:]}"
    score = scorer(name)

    def feedback(prediction: str, example: Example) -> Feedback:
        s = score(prediction, example.target)
        return Feedback("Correct" if s >= 1.0 else f"Wrong: expected {example.target}", s)
    return TaskEntry(
        name=name, family="real data", metric="accuracy", kinds=frozenset({"text"}), uses_llm=True,
        description=f"{source}, from --data-dir files; {sim_note(name)}",
        splits=lambda seed, sizes: real_splits(name, seed, sizes), score=score, feedback=feedback,
        build=partial(RealRun, name))


def _register_real() -> None:
    from undertow.bench.runner.real import REAL_TASKS

    for name in REAL_TASKS:
        register_task(_real_entry(name))


_register_real()

register_optimizer(OptimizerEntry(
    name="none", description="baseline: keeps every parameter as it is (no LLM calls)",
    kinds=ALL_KINDS, uses_llm=False, factory=_keep))
register_optimizer(OptimizerEntry(
    name="adam", description="Adam on true gradients from the numeric propagator (lr=0.05)",
    kinds=frozenset({"float"}), uses_llm=False, propagator="numeric",
    factory=lambda params, llm, task, agent: Adam(params, lr=0.05)))
register_optimizer(OptimizerEntry(
    name="sgd", description="gradient descent with momentum 0.9 (lr=0.01), numeric propagator",
    kinds=frozenset({"float"}), uses_llm=False, propagator="numeric",
    factory=lambda params, llm, task, agent: SGD(params, lr=0.01, momentum=0.9)))


def _scored_run_task(name: str, family: str, description: str, metric: str, kind: str,
                     label: str, build: Callable[[TaskContext], TaskRun]) -> TaskEntry:
    """A task whose run scores itself (games, unit tests, a simulation): one item per seed
    stands for the run in every split, and the prediction is the score."""

    def splits(seed: int, sizes: SplitSizes) -> Splits:
        item = Example(input=f"{label} {seed}", target="1.0", meta={"seed": seed})
        return Splits([item], [item], [item])

    return register_task(TaskEntry(
        name=name, family=family, description=description, metric=metric, kinds=frozenset({kind}),
        uses_llm=False, splits=splits, score=lambda prediction, target: float(prediction),
        feedback=lambda prediction, example: Feedback(f"{label} report", float(prediction)), build=build))


_scored_run_task("battleship", "code",
                 "Trace-paper Battleship: a trainable Python firing policy, reward = ship cells hit",
                 "fraction of ship cells hit", "code", "battleship boards", BattleshipRun)
_scored_run_task("code_repair", "code",
                 "fix a buggy Python function until its unit tests pass (feedback: the test report)",
                 "fraction of unit tests passed", "code", "code repair problem", CodeRepairRun)
_scored_run_task("traffic", "hyperparameters",
                 "signalized intersection queue model: tune two integer green times",
                 "-(average delay per car, s)", "int", "traffic scenario", TrafficRun)


def _llm(llm: LLM | None, name: str) -> LLM:
    if llm is None:
        raise BenchError(f"optimizer {name} needs an LLM: pass --llm (e.g. --llm sim)")
    return llm


def _reasoning_agent(agent: Any, name: str) -> Any:
    if not isinstance(agent, (ReasoningRun, RoutedRun)):
        raise BenchError(f"optimizer {name} searches prompts of the reasoning tasks only")
    return agent


def _optoprime(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.opto import OptoPrime

    return OptoPrime(params, _llm(llm, "optoprime"), memory_size=3)


def _textgrad(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.textgrad import TextGrad

    return TextGrad(params, _llm(llm, "textgrad"))


def _opro(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.opro import OPRO

    if len(params) > 1 and hasattr(agent, "program"):
        from undertow.optimizers.whole import WholeProgram, opro_factory

        return WholeProgram(agent.program(), opro_factory(_llm(llm, "opro"), agent.splits.train))
    evaluator = getattr(agent, "candidate_evaluator", None)
    if evaluator is None or len(params) != 1:
        raise BenchError(f"optimizer opro needs a task with one parameter whose candidates it can score; "
                         f"{task.name} has {len(params)} parameter(s) and "
                         f"{'a' if evaluator else 'no'} candidate evaluator")
    return OPRO(params, _llm(llm, "opro"), evaluator(), k=3)


def _search(kind: str) -> Callable[[list[Parameter], LLM | None, TaskEntry, Any], Optimizer]:
    def factory(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
        from undertow.optimizers.search import BeamSearch, PromptMCTS

        if len(params) > 1 and hasattr(agent, "program"):
            from undertow.optimizers.whole import WholeProgram, search_factory

            program = agent.program()
            return WholeProgram(program, search_factory(kind, _llm(llm, kind), agent.splits.train,
                                                        agent.splits.val, program.score, seed=0))
        run = _reasoning_agent(agent, kind)
        cls = PromptMCTS if kind == "mcts" else BeamSearch
        return cls(params, llm=_llm(llm, kind), train=run.splits.train, val=run.splits.val,
                   score=run.task.score, seed=0)

    return factory


_REASONING = frozenset({"text"})
register_optimizer(OptimizerEntry(
    name="optoprime", description="OptoPrime: the trace subgraph as a debugging report -> JSON suggestion",
    kinds=ALL_KINDS, uses_llm=True, factory=_optoprime))
register_optimizer(OptimizerEntry(
    name="textgrad", description="TextGrad-style descent on LLM critiques per edge (textual propagator)",
    kinds=ALL_KINDS, uses_llm=True, propagator="textual", factory=_textgrad))
register_optimizer(OptimizerEntry(
    name="opro", description="OPRO: best (prompt, score) pairs and failures in a meta-prompt, k samples a step",
    kinds=frozenset({"text", "code"}), uses_llm=True, factory=_opro))
register_optimizer(OptimizerEntry(
    name="mcts", description="PromptAgent-style Monte Carlo tree search over prompts (vectorized tree store)",
    kinds=_REASONING, uses_llm=True, factory=_search("mcts")))
register_optimizer(OptimizerEntry(
    name="beam", description="APO-style beam search: critiques of error groups, edits, bandit selection",
    kinds=_REASONING, uses_llm=True, factory=_search("beam")))


def _tpe(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.blackbox import TPE

    return TPE(params, seed=getattr(agent, "run_seed", 0))


if importlib.util.find_spec(NEEDS_EXTRA["tpe"][0]) is not None:  # hidden until installed
    register_optimizer(OptimizerEntry(
        name="tpe", description="Optuna TPE black-box search over int/float/choice parameters (no LLM)",
        kinds=frozenset({"int", "float", "choice"}), uses_llm=False, factory=_tpe))


# -- the peers: other frameworks' own optimizers, each run in a venv of its own ------------
def _register_peers() -> None:
    from undertow.bench.peers.catalog import OPTIMIZERS as PEERS
    from undertow.bench.peers.catalog import package_of

    for peer in PEERS.values():
        # The runner drives a peer as a whole (bench/peers/run.py); `_keep` only holds the
        # agent's parameter for checkpoints. Peers train the reasoning tasks' prompt.
        register_optimizer(OptimizerEntry(
            name=peer.name, description=peer.description, kinds=_REASONING, uses_llm=True,
            factory=_keep, peer=package_of(peer.name).label))


_register_peers()


def default_optimizers() -> list[str]:
    """What `-o all` means: undertow's own optimizers (peers need `undertow peers install`,
    so they run only when named)."""
    return [name for name, entry in OPTIMIZERS.items() if not entry.peer]


# -- the prompt optimizers of the seed papers (docs/prompt-optimizers.md) ---------------------
def _program(agent: Any, name: str) -> Any:
    if not hasattr(agent, "program"):
        raise BenchError(f"optimizer {name} optimizes prompt programs (the reasoning, real-data and "
                         "two_prompt tasks)")
    return agent.program()


def _ape(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.prompts import APE

    return APE(_program(agent, "ape"), _llm(llm, "ape"), train=agent.splits.train, seed=0)


def _spo(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.prompts import SPO

    # SPO wraps the program in Unlabeled: no target and no metric reach it.
    return SPO(_program(agent, "spo"), _llm(llm, "spo"), train=agent.splits.train, seed=0)


def _apohf(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.prompts import APOHF, SimulatedOracle

    program = _program(agent, "apohf")
    oracle = SimulatedOracle(program.score, noise=0.1, seed=0)  # the metric stays with the oracle
    return APOHF(program, _llm(llm, "apohf"), oracle, train=agent.splits.train, seed=0)


def _gepa(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.prompts import GEPA

    return GEPA(_program(agent, "gepa"), _llm(llm, "gepa"), train=agent.splits.train,
                val=agent.splits.val, seed=0)


register_optimizer(OptimizerEntry(
    name="ape", description="APE: instructions induced from demonstrations, raced on growing subsets, resampled",
    kinds=_REASONING, uses_llm=True, factory=_ape))
register_optimizer(OptimizerEntry(
    name="spo", description="SPO: no labels; new prompt from outputs, order-swapped pairwise LLM judgement",
    kinds=_REASONING, uses_llm=True, factory=_spo))
register_optimizer(OptimizerEntry(
    name="apohf", description="APOHF: preferences only (simulated Bradley-Terry oracle); linear dueling bandit",
    kinds=_REASONING, uses_llm=True, factory=_apohf))
register_optimizer(OptimizerEntry(
    name="gepa", description="GEPA: reflective mutation per parameter, Pareto selection over instances, merge",
    kinds=_REASONING, uses_llm=True, factory=_gepa))


# -- systems registered from their own modules (bench/entries/) --------------------------------
def _register_entries() -> None:
    from undertow.bench.entries import load_all

    load_all()


_register_entries()
