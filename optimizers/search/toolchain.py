"""ToolChain*: A* over trees of tool-call steps, one tree per question, on the tree store.

A state is a partial plan: the tool calls made so far with their observations, and
possibly a final answer (a final state is a goal). Each round pops, from every
unsolved tree at once, the open state of least ``f = g + h`` (one ``score("astar")``
call over the forest), asks ``propose`` for the next actions of every popped state
concurrently, runs the tool calls, asks ``estimate`` for the cost to go of each new
non-final state, and allocates all children with one ``expand`` call.

The costs, all >= 0 so that A* stays well defined:

* a tool call costs ``call_cost`` (1), plus ``error_cost`` when its observation is an
  error; a successful call costs less by the long-term memory's bonus
  (``memory(question, steps)`` in ``[0, 1]``, times ``memory_weight`` < ``call_cost``):
  a plan prefix that matches plans which solved similar questions before is cheaper;
* a final answer costs ``answer_cost`` (1);
* ``h`` of an open plan is the estimated number of remaining tool calls plus the
  answer step; ``h`` of a final answer is ``skip_penalty`` times the tool calls its
  parent's estimate said were still needed (answering before the evidence is in), plus
  a self-consistency term ``consistency * (1 - share)``, where ``share`` is the part of
  the ``k`` proposals that agreed on this action.

With an admissible ``estimate`` (never above the true remaining cost), zero memory and
zero self-consistency terms, the first final state popped is a cheapest one (tests
check this on synthetic trees). The LLM's estimate is not admissible in general; the
search then is best-first with the LLM as the heuristic, as in ToolChain*.

The search of one question stops at its first popped final state, when its frontier is
empty, or when its budget of ``propose``/``estimate`` calls is spent; then its answer
is the cheapest final state it holds (popped or not), else the last observation of its
cheapest open state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from undertow.optimizers.search.forest import FLAG_TERMINAL, Forest
from undertow.optimizers.tree import TreeBackend


@dataclass(frozen=True)
class Step:
    """One executed tool call: the tool, its input and what it returned."""

    tool: str
    args: str
    observation: str
    error: bool = False


@dataclass(frozen=True)
class Action:
    """A proposed next action: a tool call (``tool``, ``args``) or a final ``answer``."""

    tool: str = ""
    args: str = ""
    answer: str | None = None

    @property
    def final(self) -> bool:
        return self.answer is not None

    def key(self) -> tuple[str, str, str | None]:
        return (self.tool, " ".join(self.args.split()).lower(),
                None if self.answer is None else " ".join(self.answer.split()).lower())


@dataclass(frozen=True)
class Plan:
    """A node of a tree: the steps taken, the final answer (None while open), and the
    remaining tool calls its estimate imagined (``remaining``)."""

    steps: tuple[Step, ...] = ()
    answer: str | None = None
    remaining: float = 0.0

    @property
    def final(self) -> bool:
        return self.answer is not None

    def key(self) -> tuple[Any, ...]:
        return (tuple(Action(s.tool, s.args).key() for s in self.steps),
                None if self.answer is None else " ".join(self.answer.split()).lower())

    def tools(self) -> tuple[str, ...]:
        return tuple(s.tool for s in self.steps)


#: ``propose(question, plan, k, node) -> k actions`` (duplicates allowed; they count as agreement)
ProposeFn = Callable[[str, Plan, int, int], Awaitable[Sequence[Action]]]
#: ``estimate(question, plan) -> remaining tool calls (>= 0)``
EstimateFn = Callable[[str, Plan], Awaitable[float]]
#: ``execute(tool, args) -> (observation, is_error)``
ExecuteFn = Callable[[str, str], Awaitable[tuple[str, bool]]]
#: ``memory(question, steps so far) -> bonus in [0, 1]``
MemoryFn = Callable[[str, tuple[Step, ...]], float]


@dataclass
class Costs:
    """The cost model (see the module docstring)."""

    call_cost: float = 1.0
    error_cost: float = 1.0
    answer_cost: float = 1.0
    memory_weight: float = 0.5
    skip_penalty: float = 2.0
    consistency: float = 1.0
    use_estimate: bool = True

    def __post_init__(self) -> None:
        if min(self.call_cost, self.error_cost, self.answer_cost, self.memory_weight,
               self.skip_penalty, self.consistency) < 0:
            raise ValueError(f"every cost must be >= 0, got {self}")
        if self.memory_weight >= self.call_cost and self.memory_weight > 0:
            raise ValueError(f"memory_weight ({self.memory_weight}) must stay below call_cost "
                             f"({self.call_cost}) so that step costs remain positive")


@dataclass
class ChainResult:
    """The outcome for one question: the answer, the plan behind it, and the spend."""

    question: str
    answer: str
    plan: Plan
    calls: int
    expansions: int
    reason: str            # "goal", "budget", "exhausted", "capacity"
    cost: float = float("inf")
    popped: list[Plan] = field(default_factory=list)


@dataclass
class _Node:
    plan: Plan
    g: float


async def chain_search(questions: Sequence[str], propose: ProposeFn, estimate: EstimateFn,
                       execute: ExecuteFn, *, k: int = 3, budget: int = 16,
                       costs: Costs | None = None, memory: MemoryFn | None = None,
                       capacity: int = 512,
                       backend: str | TreeBackend | None = None) -> list[ChainResult]:
    """Run ToolChain* on every question at once; one :class:`ChainResult` per question.

    ``budget`` counts ``propose`` + ``estimate`` calls per question (each proposal
    sample is one call, as it is one LLM call); near the end of the budget an expansion
    samples only the proposals that still fit, and estimates beyond the budget are
    replaced by the parent's estimate minus one.
    """
    qs = [str(q) for q in questions]
    if not qs:
        raise ValueError("questions is empty; pass at least one question")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if budget < k:
        raise ValueError(f"budget ({budget}) must allow at least one expansion of k={k} proposals")
    c = costs or Costs()
    B = len(qs)
    forest = Forest(B, capacity, backend=backend)
    calls = [0] * B
    expansions = [0] * B
    done: list[ChainResult | None] = [None] * B
    popped: list[list[Plan]] = [[] for _ in range(B)]
    best: list[dict[Any, float]] = [{} for _ in range(B)]
    roots = await asyncio.gather(*(_root_estimate(q, estimate, c) for q in qs))
    for b, r in enumerate(roots):
        calls[b] += 1 if c.use_estimate else 0
        forest.payloads[b, 0] = _Node(Plan(remaining=r), 0.0)
    with forest.timed():
        forest.store.h[:, 0] = forest.backend.xp.asarray(
            np.array([r + c.answer_cost for r in roots], dtype=np.float32))
    while any(d is None for d in done):
        top = forest.score("astar", 1)
        pops = top.index[:, 0].astype(np.int64)
        work: list[tuple[int, int, _Node]] = []
        for b in range(B):
            if done[b] is not None:
                continue
            node = int(pops[b])
            if node < 0:
                done[b] = _finish(forest, b, qs[b], calls[b], expansions[b], "exhausted", popped[b])
                continue
            info: _Node = forest.payloads[b, node]
            popped[b].append(info.plan)
            if info.plan.final:
                done[b] = ChainResult(qs[b], info.plan.answer or "", info.plan, calls[b],
                                      expansions[b], "goal", info.g, popped[b])
                continue
            if budget - calls[b] < 1:
                done[b] = _finish(forest, b, qs[b], calls[b], expansions[b], "budget", popped[b])
                continue
            work.append((b, node, info))
        if not work:
            continue
        kids = await asyncio.gather(*(
            _children(qs[b], node, info, propose, estimate, execute, min(k, budget - calls[b]),
                      budget - calls[b], c, memory, best[b]) for b, node, info in work))
        slots = np.full(B, -1, dtype=np.int32)
        ks = np.zeros(B, dtype=np.int32)
        width = max(1, max(len(rows) for rows, _ in kids))
        cost = np.zeros((B, width), dtype=np.float32)
        hh = np.zeros((B, width), dtype=np.float32)
        for (b, node, _), (rows, used) in zip(work, kids):
            calls[b] += used
            expansions[b] += 1
            slots[b], ks[b] = node, len(rows)
            for j, (_, step_cost, h) in enumerate(rows):
                cost[b, j], hh[b, j] = step_cost, h
        first = forest.expand(slots, ks, cost=cost, h=hh)
        for (b, node, info), (rows, _) in zip(work, kids):
            if not rows:
                forest.mark(b, node, FLAG_TERMINAL)
                continue
            if first[b] < 0:
                done[b] = _finish(forest, b, qs[b], calls[b], expansions[b], "capacity", popped[b])
                continue
            for j, (plan, step_cost, _) in enumerate(rows):
                forest.payloads[b, int(first[b]) + j] = _Node(plan, info.g + step_cost)
    return [d for d in done if d is not None]


async def _root_estimate(question: str, estimate: EstimateFn, c: Costs) -> float:
    if not c.use_estimate:
        return 0.0
    return _clean(await estimate(question, Plan()))


def _clean(value: float) -> float:
    v = float(value)
    return v if np.isfinite(v) and v >= 0 else 0.0


async def _children(question: str, node: int, info: _Node, propose: ProposeFn,
                    estimate: EstimateFn, execute: ExecuteFn, k: int, left: int, c: Costs,
                    memory: MemoryFn | None, best: dict[Any, float]
                    ) -> tuple[list[tuple[Plan, float, float]], int]:
    """The new children of one popped plan (plan, step cost, h) and the calls spent."""
    actions = list(await propose(question, info.plan, k, node))[:k]
    used = k
    counts: dict[Any, int] = {}
    firsts: dict[Any, Action] = {}
    for a in actions:
        counts[a.key()] = counts.get(a.key(), 0) + 1
        firsts.setdefault(a.key(), a)
    distinct = list(firsts.values())
    calls = [a for a in distinct if not a.final]
    observed = await asyncio.gather(*(execute(a.tool, a.args) for a in calls))
    plans: list[tuple[Plan, float, float]] = []
    for a in distinct:
        share = counts[a.key()] / max(1, len(actions))
        if a.final:
            plan = Plan(info.plan.steps, a.answer, 0.0)
            step = c.answer_cost
            h = c.skip_penalty * info.plan.remaining + c.consistency * (1.0 - share)
        else:
            obs, err = observed[calls.index(a)]
            steps = info.plan.steps + (Step(a.tool, a.args, obs, err),)
            bonus = memory(question, steps) if memory and not err else 0.0
            step = c.call_cost + (c.error_cost if err else 0.0) \
                - c.memory_weight * min(max(bonus, 0.0), 1.0)
            plan = Plan(steps, None, 0.0)
            h = c.consistency * (1.0 - share)
        plans.append((plan, step, h))
    out: list[tuple[Plan, float, float]] = []
    todo = [i for i, (p, _, _) in enumerate(plans) if not p.final]
    if c.use_estimate:
        room = max(0, left - used)
        asked, guessed = todo[:room], todo[room:]
        est = await asyncio.gather(*(estimate(question, plans[i][0]) for i in asked))
        used += len(asked)
        remaining = {i: _clean(e) for i, e in zip(asked, est)}
        for i in guessed:
            remaining[i] = max(0.0, info.plan.remaining - 1.0)
    else:
        remaining = {i: 0.0 for i in todo}
    g0 = _g(info)
    for i, (plan, step, h) in enumerate(plans):
        if not plan.final:
            plan = Plan(plan.steps, None, remaining[i])
            h += remaining[i] + c.answer_cost
        key = plan.key()
        if key in best and best[key] <= g0 + step:
            continue
        best[key] = g0 + step
        out.append((plan, step, h))
    return out, used


def _g(info: _Node) -> float:
    return info.g


def _finish(forest: Forest, b: int, question: str, calls: int, expansions: int, reason: str,
            popped: list[Plan]) -> ChainResult:
    """The best answer a stopped tree holds: its cheapest final state, else the last
    observation of its cheapest open plan."""
    g = forest.host("g", b)
    h = forest.host("h", b)
    finals, opens = [], []
    for n, info in forest.payloads.tree_items(b):
        f = float(g[n]) + float(h[n])
        (finals if info.plan.final else opens).append((f, -len(info.plan.steps), n, info))
    pool = finals or opens
    f, _, _, info = min(pool, key=lambda t: (t[0], t[1], t[2]))
    plan: Plan = info.plan
    answer = plan.answer if plan.final else _last_observation(plan)
    return ChainResult(question, answer or "", plan, calls, expansions, reason, info.g, popped)


def _last_observation(plan: Plan) -> str:
    for s in reversed(plan.steps):
        if not s.error:
            return s.observation
    return ""
