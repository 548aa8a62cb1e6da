"""Whole programs: OPRO, MCTS and beam over the two-prompt agent, the parameter chosen by
blame from a real backward pass (or round-robin without feedback), mixed parameter kinds."""

from __future__ import annotations

import random

import pytest
from undertow.bench.runner.routed import RoutedRun
from undertow.bench.runner.tasks import SplitSizes, TaskContext
from undertow.engine import Feedback, Parameter, backward
from undertow.engine.llm import make_llm
from undertow.optimizers import OPRO, BeamSearch, PromptMCTS
from undertow.optimizers.program import Call, Program, mean
from undertow.optimizers.whole import WholeProgram, opro_factory, search_factory

from tests.prompts.helpers import scripted, suggest


def _routed(seed: int = 0) -> RoutedRun:
    llm = make_llm("sim", cache_dir=False)
    return RoutedRun(TaskContext(seed=seed, llm=llm, eval_llm=llm, sizes=SplitSizes(30, 16, 40),
                                 batch_size=6, propagator="subgraph"))


def test_blame_picks_the_prompt_that_the_failing_feedback_reached():
    run = _routed()
    opt = WholeProgram(run.program(), opro_factory(run.llm, run.splits.train))
    batch = run.splits.train[:8]
    outs = [run.agent(ex.input) for ex in batch]
    # logic answers all judged wrong, sorting answers right: only logic_prompt is to blame
    fbs = [Feedback("Wrong", 0.0) if ex.target in ("True", "False") else Feedback("Correct", 1.0) for ex in batch]
    backward(outs, fbs, "subgraph")
    assert opt.blame() == {"logic_prompt": 0.0, "sorting_prompt": 1.0}
    assert opt.choose() == ("logic_prompt", "blame")
    opt.zero_feedback()
    assert opt.blame() == {}
    assert [opt.choose()[0] for _ in range(3)] == ["logic_prompt", "sorting_prompt", "logic_prompt"]


@pytest.mark.parametrize("kind", ["opro", "mcts", "beam"])
def test_search_optimizers_improve_the_two_prompt_program(kind):
    run = _routed()
    prog = run.program()
    if kind == "opro":
        make = opro_factory(run.llm, run.splits.train)
    else:
        make = search_factory(kind, run.llm, run.splits.train, run.splits.val, prog.score, seed=0)
    opt = WholeProgram(prog, make)
    assert isinstance(next(iter(opt.subs.values())), {"opro": OPRO, "mcts": PromptMCTS, "beam": BeamSearch}[kind])
    before = run.evaluate("test")
    rng = random.Random(0)
    for _ in range(6):
        run.run_step(opt, rng)
    after = run.evaluate("test")
    assert after >= before + 0.15, (kind, before, after, opt.choices)
    assert {c["parameter"] for c in opt.choices} == {"logic_prompt", "sorting_prompt"}
    assert any(c["why"] == "blame" for c in opt.choices)
    # resumable: a new optimizer over the same program takes the state
    state = opt.state_dict()
    again = WholeProgram(prog, make)
    again.load_state_dict(state)
    assert again.choices == opt.choices and again.state_dict()["parameters"] == state["parameters"]


class MixedProgram(Program):
    """A text prompt and a choice parameter: right when the prompt says 'careful' and the
    style is 'steps' (a toy task model)."""

    def __init__(self) -> None:
        self.parameters = [Parameter("Answer.", kind="text", name="prompt"),
                           Parameter("short", kind="choice", choices=["short", "steps"], name="style")]
        self.score = lambda p, t: float(p == t)

    async def aanswer(self, values, items):
        good = ("careful" in values["prompt"]) + (values["style"] == "steps")
        return [(it.target if good == 2 or (good == 1 and int(it.input[1:]) % 2) else "no",
                 (Call("prompt", it.input, ""), Call("style", it.input, ""))) for it in items]


def test_mixed_kinds_each_parameter_gets_a_search_of_its_kind():
    from undertow.optimizers.search.prompting import Item

    prog = MixedProgram()
    train = [Item(f"q{i}", f"T{i}") for i in range(12)]

    def fn(text, request):
        if 'name="style"' in text or "variable style" in text:
            return suggest("style", "steps")
        return suggest("prompt", "Be careful.")
    llm, _ = scripted(fn)
    opt = WholeProgram(prog, search_factory("mcts", llm, train, train, prog.score, seed=0))
    assert isinstance(opt.subs["prompt"], PromptMCTS) and isinstance(opt.subs["style"], OPRO)
    for _ in range(4):
        opt.step()
    assert prog.parameters[1].value == "steps" and "careful" in prog.parameters[0].value
    assert mean(prog.run(prog.current(), train)) == 1.0
