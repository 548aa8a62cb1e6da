"""Whole programs for the one-parameter searches (OPRO, MCTS, beam): one sub-search per
parameter, and blame from the backward pass to say which one works this step.

`WholeProgram` holds a sub-optimizer per parameter, each scoring its candidates by
running the whole `Program` with that candidate in place and the other parameters
at their current values. Each ``step()`` picks one parameter:

- **blame**: the feedback the last backward pass delivered to each parameter is
  read (``Parameter.feedback``); the parameter whose feedback has the lowest mean
  score (the most failures reaching it) is blamed. A parameter that received no
  feedback is not blamed. After ``patience`` steps on one parameter without a
  change, the next most blamed one gets its turn.
- **round-robin** when no parameter received scored feedback (a run without
  ``backward``, or feedback without scores).

``choices`` records every pick with the blame it was based on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from undertow.engine import Parameter, StateError
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.opro import OPRO, Evaluation
from undertow.optimizers.program import Program
from undertow.optimizers.search.prompting import Item, Outcome, as_items

#: ``make(param, program) -> Optimizer`` over that one parameter.
SubFactory = Callable[[Parameter, Program], Optimizer]


def received_scores(param: Parameter) -> list[float]:
    """The scores of the feedback a parameter received in the last backward pass."""
    scores: list[float] = []

    def visit(x: Any) -> None:
        score = getattr(x, "score", None)
        if isinstance(score, (int, float)) and not isinstance(score, bool):
            scores.append(float(score))
            return
        inner = getattr(x, "feedback", None)
        if isinstance(inner, (list, tuple)):
            for y in inner:
                visit(y)
        elif inner is not None and inner is not x:
            visit(inner)
    for entry in param.feedback:
        visit(entry)
    return scores


class WholeProgram(Optimizer):
    """A one-parameter search run over every parameter of a program, one per step.

    Args:
        program: the program (its parameters are this optimizer's parameters).
        make: builds the sub-optimizer of one parameter (see `opro_factory`,
            `search_factory`).
        patience: steps on one parameter without a change before the next most
            blamed one is tried.
    """

    def __init__(self, program: Program, make: SubFactory, *, patience: int = 2) -> None:
        super().__init__(program.parameters)
        program.check_names()
        self.program = program
        self.subs: dict[str, Optimizer] = {p.label: make(p, program) for p in self.parameters}
        self.patience = patience
        self.turn = 0
        self.idle: dict[str, int] = {p.label: 0 for p in self.parameters}
        self.choices: list[dict[str, Any]] = []

    def blame(self) -> dict[str, float]:
        """Mean score of the feedback each parameter received (only those that received some)."""
        out = {}
        for p in self.parameters:
            s = received_scores(p)
            if s:
                out[p.label] = sum(s) / len(s)
        return out

    def choose(self) -> tuple[str, str]:
        """(parameter, why): the most blamed one still patient, else round-robin."""
        names = [p.label for p in self.parameters]
        blame = self.blame()
        if blame and len(set(blame.values())) > 1 or (blame and len(blame) < len(names)):
            order = sorted(blame, key=lambda n: (blame[n], (names.index(n) - self.turn) % len(names)))
            fresh = [n for n in order if self.idle[n] < self.patience] or order
            return fresh[0], "blame"
        name = names[self.turn % len(names)]
        self.turn += 1
        return name, "round-robin"

    def step(self) -> list[Proposal]:
        name, why = self.choose()
        self.choices.append({"step": self.steps, "parameter": name, "why": why,
                             "blame": {k: round(v, 4) for k, v in self.blame().items()}})
        proposals = self.subs[name].step()
        self.log.extend(proposals)
        changed = any(p.accepted for p in proposals)
        self.idle[name] = 0 if changed else self.idle[name] + 1
        self.steps += 1
        return proposals

    def finalize(self) -> list[Proposal]:
        return [p for sub in self.subs.values() for p in sub.finalize()]

    def extra_state(self) -> dict[str, Any]:
        return {"subs": {n: s.state_dict() for n, s in self.subs.items()}, "turn": self.turn,
                "idle": dict(self.idle), "choices": [dict(c) for c in self.choices]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        subs = state.get("subs", {})
        if set(subs) != set(self.subs):
            raise StateError(f"WholeProgram state has sub-searches {sorted(subs)}, this one "
                             f"{sorted(self.subs)}; build it over the same program")
        for n, s in subs.items():
            self.subs[n].load_state_dict(s)
        self.turn = int(state.get("turn", 0))
        self.idle = {str(k): int(v) for k, v in state.get("idle", {}).items()}
        self.choices = [dict(c) for c in state.get("choices", [])]


# -- sub-search factories --------------------------------------------------------------------------
def program_evaluator(program: Program, name: str, items: Sequence[Item], max_examples: int = 3
                      ) -> Callable[[Any], Evaluation]:
    """OPRO's ``evaluate(value)``: the program's mean score on ``items`` with ``value`` in place."""
    def evaluate(value: Any) -> Evaluation:
        rollouts = program.run(program.with_value(name, value), items)
        fails = [{"input": r.item.input, "output": r.output, "expected": r.item.target}
                 for r in rollouts if (r.score or 0.0) < 1.0 and r.touched(name)]
        scores = [r.score or 0.0 for r in rollouts]
        return Evaluation(sum(scores) / len(scores), fails[:max_examples])
    return evaluate


def program_runner(program: Program, name: str) -> Callable[[str, Sequence[Item]], Any]:
    """The ``run(prompt, items)`` of MCTS/beam: the whole program with ``prompt`` in place."""
    async def run(prompt: str, items: Sequence[Item]) -> list[Outcome]:
        rollouts = await program.arun(program.with_value(name, prompt), items)
        return [Outcome(r.item, r.output, float(r.score or 0.0)) for r in rollouts]
    return run


def opro_factory(llm: Any, train: Sequence[Any], *, n: int = 12, k: int = 3) -> SubFactory:
    """OPRO per parameter (any kind), scoring on the first ``n`` training items."""
    items = as_items(train, "train")[:n]

    def make(param: Parameter, program: Program) -> Optimizer:
        return OPRO([param], llm, program_evaluator(program, param.label, items), k=k)
    return make


def search_factory(kind: str, llm: Any, train: Sequence[Any], val: Sequence[Any], score: Any,
                   **options: Any) -> SubFactory:
    """PromptMCTS (``kind="mcts"``) or BeamSearch (``"beam"``) per text parameter; other kinds
    get OPRO (a tree of rewrites is defined for prompts only)."""
    from undertow.optimizers.search import BeamSearch, PromptMCTS

    cls = {"mcts": PromptMCTS, "beam": BeamSearch}[kind]
    fallback = opro_factory(llm, train)

    def make(param: Parameter, program: Program) -> Optimizer:
        if param.kind != "text":
            return fallback(param, program)
        return cls([param], llm=llm, train=train, val=val, score=score,
                   run=program_runner(program, param.label), **options)
    return make
