"""ToolChain*'s A* engine on synthetic tool trees (no LLM): order, admissibility, budget,
batching, and the memory bonus changing the order."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.search.toolchain import Action, Costs, Plan, Step, chain_search

EXACT = Costs(skip_penalty=0.0, consistency=0.0, memory_weight=0.0)


@dataclass
class ToolTree:
    """A tree of tool calls: at each plan (tuple of tool names) the actions on offer;
    calls whose name starts with "bad" fail (cost 1 + error_cost)."""

    actions: dict[tuple[str, ...], list[Action]]

    def cost(self, a: Action) -> float:
        if a.final:
            return 1.0
        return 2.0 if a.tool.startswith("bad") else 1.0

    @functools.cache  # noqa: B019 - the tree is immutable in a test
    def to_go(self, plan: tuple[str, ...]) -> float:
        """Exact cost to a final answer from ``plan`` (inf if none)."""
        best = float("inf")
        for a in self.actions.get(plan, []):
            rest = 0.0 if a.final else self.to_go(plan + (a.tool,))
            best = min(best, self.cost(a) + rest)
        return best

    def __hash__(self) -> int:
        return id(self)

    def fns(self, *, exact_h: bool, width: int):
        calls: list[tuple[str, ...]] = []

        async def propose(question: str, plan: Plan, k: int, node: int) -> list[Action]:
            calls.append(plan.tools())
            acts = self.actions.get(plan.tools(), [])
            return (acts * k)[:k] if acts else [Action(answer="none")] * 0

        async def estimate(question: str, plan: Plan) -> float:
            if not exact_h:
                return 0.0
            togo = self.to_go(plan.tools())
            return max(0.0, togo - 1.0) if togo != float("inf") else 50.0

        async def execute(tool: str, args: str) -> tuple[str, bool]:
            return (f"Error E_BAD: {tool}" if tool.startswith("bad") else f"ok {tool}"), tool.startswith("bad")

        return propose, estimate, execute, calls


def chain() -> ToolTree:
    """Root: a cheap-looking error branch, a 2-call path and a 3-call path to answers."""
    return ToolTree({
        (): [Action("bad"), Action("a"), Action("b")],
        ("bad",): [Action(answer="x")],
        ("a",): [Action("a2")],
        ("a", "a2"): [Action(answer="right")],
        ("b",): [Action("b2")],
        ("b", "b2"): [Action("b3")],
        ("b", "b2", "b3"): [Action(answer="long")],
    })


def run(tree: ToolTree, *, exact_h: bool = True, costs: Costs = EXACT, memory=None, budget: int = 400,
        k: int = 3, questions: tuple[str, ...] = ("q",)):
    propose, estimate, execute, calls = tree.fns(exact_h=exact_h, width=k)
    res = asyncio.run(chain_search(list(questions), propose, estimate, execute, k=k, budget=budget,
                                   costs=costs, memory=memory, backend="numpy"))
    return res, calls


def test_cheapest_answer_first_and_popped_in_f_order() -> None:
    tree = chain()
    for exact in (True, False):
        (res,), _ = run(tree, exact_h=exact)
        assert res.reason == "goal"
        # error branch: 2 (call) + 1 (answer) = 3 = a-path: 1 + 1 + 1; ties break by index
        assert res.cost == pytest.approx(3.0)
        assert res.answer in {"x", "right"}
        assert res.cost == pytest.approx(tree.to_go(()))


def test_error_costs_more_than_a_success() -> None:
    tree = ToolTree({(): [Action("bad"), Action("a")], ("bad",): [Action(answer="x")],
                     ("a",): [Action(answer="y")]})
    (res,), _ = run(tree)
    assert res.answer == "y" and res.cost == pytest.approx(2.0)
    (res,), _ = run(tree, costs=Costs(skip_penalty=0, consistency=0, memory_weight=0, error_cost=0.0))
    assert res.cost == pytest.approx(2.0)  # now a tie: either answer is a cheapest one


def test_exact_heuristic_expands_no_more_than_uniform_cost() -> None:
    tree = chain()
    (with_h,), _ = run(tree, exact_h=True)
    (without,), _ = run(tree, exact_h=False)
    assert with_h.expansions <= without.expansions
    assert with_h.cost == pytest.approx(without.cost)


@st.composite
def random_trees(draw: st.DrawFn) -> ToolTree:
    actions: dict[tuple[str, ...], list[Action]] = {}
    frontier: list[tuple[str, ...]] = [()]
    counter = 0
    while frontier and counter < 14:
        plan = frontier.pop(0)
        n = draw(st.integers(1, 3))
        acts = []
        for _ in range(n):
            counter += 1
            kind = draw(st.sampled_from(["call", "bad", "final"])) if len(plan) < 4 else "final"
            if kind == "final":
                acts.append(Action(answer=f"ans{counter}"))
            else:
                name = f"{'bad' if kind == 'bad' else 't'}{counter}"
                acts.append(Action(name))
                frontier.append(plan + (name,))
        actions[plan] = acts
    for plan in frontier:  # open leaves answer
        actions[plan] = [Action(answer="leaf")]
    return ToolTree(actions)


@settings(max_examples=60, deadline=None)
@given(random_trees(), st.booleans())
def test_admissible_search_finds_a_cheapest_plan(tree: ToolTree, exact: bool) -> None:
    (res,), _ = run(tree, exact_h=exact, k=3)
    assert res.reason == "goal"
    assert res.cost == pytest.approx(tree.to_go(()))
    assert res.plan.final


@settings(max_examples=30, deadline=None)
@given(random_trees(), st.integers(3, 12))
def test_budget_is_never_exceeded(tree: ToolTree, budget: int) -> None:
    (res,), _ = run(tree, budget=budget, k=3, costs=Costs())
    assert res.calls <= budget


def test_batch_equals_one_at_a_time() -> None:
    tree = chain()
    batch, _ = run(tree, questions=("q1", "q2", "q3"))
    for q, r in zip(("q1", "q2", "q3"), batch):
        (single,), _ = run(tree, questions=(q,))
        assert (r.answer, r.cost, r.expansions, r.calls) == (single.answer, single.cost, single.expansions,
                                                            single.calls)


def test_memory_bonus_changes_the_order() -> None:
    # two equally cheap routes; without memory the first listed wins the tie
    tree = ToolTree({(): [Action("left"), Action("right")], ("left",): [Action(answer="L")],
                     ("right",): [Action(answer="R")]})
    costs = Costs(skip_penalty=0.0, consistency=0.0, memory_weight=0.5)
    (plain,), _ = run(tree, costs=costs)
    assert plain.answer == "L"

    def likes_right(question: str, steps: tuple[Step, ...]) -> float:
        return 1.0 if steps and steps[0].tool == "right" else 0.0

    (remembered,), _ = run(tree, costs=costs, memory=likes_right)
    assert remembered.answer == "R"
    assert remembered.cost == pytest.approx(1.5)


def test_self_consistency_prefers_the_majority() -> None:
    tree = ToolTree({(): [Action(answer="minor"), Action(answer="major"), Action(answer="major")]})
    (res,), _ = run(tree, costs=Costs(skip_penalty=0.0, consistency=1.0), k=3)
    assert res.answer == "major"


def test_bad_arguments_are_refused() -> None:
    tree = chain()
    with pytest.raises(ValueError, match="budget"):
        run(tree, budget=2, k=3)
    with pytest.raises(ValueError, match="positive"):
        run(tree, k=0)
    with pytest.raises(ValueError, match="below call_cost"):
        Costs(memory_weight=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        Costs(error_cost=-1)
