"""Parallel evaluation inside optimizer steps (undertow.optimizers.fanout): the width changes
how many jobs go at once, never the results (same seeds -> same results with 1 or 4)."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.llm import make_llm
from undertow.optimizers.fanout import Fanout, as_fanout
from undertow.optimizers.prompts import GEPA
from undertow.optimizers.search import PromptMCTS

from tests.search.helpers import prompt_param, task_setup


# -- the Fanout itself -------------------------------------------------------------------------
@given(st.lists(st.integers(), max_size=30), st.sampled_from([None, 1, 2, 4, 64]))
def test_map_keeps_the_order_of_the_jobs_and_never_exceeds_the_width(xs, width):
    running, peak = 0, 0

    async def job(x: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)  # let the others start, if they may
        await asyncio.sleep(0)
        running -= 1
        return x * 2

    out = asyncio.run(Fanout(width).map(job, xs))
    assert out == [x * 2 for x in xs]
    assert peak <= (width or len(xs) or 0)
    if xs and width is not None:
        assert peak == min(width, len(xs))  # and it does fan out that wide


def test_nested_fanouts_do_not_deadlock_at_width_one():
    fan = Fanout(1)

    async def outer(x: int) -> list[int]:
        return await fan.map(lambda y: _double(y), [x, x + 1])

    assert asyncio.run(fan.map(outer, [1, 3])) == [[2, 4], [6, 8]]


async def _double(y: int) -> int:
    await asyncio.sleep(0)
    return 2 * y


def test_map_sync_runs_in_threads_in_order_and_bad_widths_are_refused():
    assert Fanout(3).map_sync(lambda x: x + 1, range(7)) == list(range(1, 8))
    assert Fanout(1).map_sync(lambda x: x + 1, [1, 2]) == [2, 3]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="fan-out width"):
            Fanout(bad)  # type: ignore[arg-type]
    assert as_fanout(4).width == 4 and as_fanout(None) is None
    with pytest.raises(TypeError, match="fanout must be"):
        as_fanout("4")  # type: ignore[arg-type]


# -- same seeds, same results, any width -----------------------------------------------------------
def _gepa(width: int | None):
    from undertow.bench.runner.routed import RoutedRun
    from undertow.bench.runner.tasks import SplitSizes, TaskContext

    llm = make_llm("sim", cache_dir=False)
    run = RoutedRun(TaskContext(seed=1, llm=llm, eval_llm=llm, sizes=SplitSizes(16, 8, 4), batch_size=4,
                                propagator="subgraph"))
    prog = run.program()
    g = GEPA(prog, llm, train=run.splits.train, val=run.splits.val, seed=3, minibatch=4, merge_every=3,
             fanout=width)
    for _ in range(4):
        g.step()
    return g, llm


def test_gepa_gives_the_same_pool_with_width_1_and_4():
    (one, llm1), (four, llm4) = _gepa(1), _gepa(4)
    assert one.pool == four.pool and one.events == four.events and one.rollouts == four.rollouts
    assert [p.value for p in one.parameters] == [p.value for p in four.parameters]
    assert llm1.accounting.spent().calls == llm4.accounting.spent().calls
    assert any(e["kind"] == "mutation" for e in one.events)


def _mcts(width: int | None):
    task, splits = task_setup(n_train=12, n_val=8)
    p = prompt_param()
    llm = make_llm("sim", cache_dir=False)
    opt = PromptMCTS([p], llm=llm, train=splits.train, val=splits.val, score=task.score, num_trees=2,
                     paths=2, k=2, train_batch=4, seed=5, fanout=width)
    for _ in range(3):
        opt.step()
    return opt, p, llm


def _untimed(opt) -> str:
    """The search's state without its timings (the only thing the width may change), as
    JSON text (so that NaN values of unvisited nodes compare equal)."""
    state = json.loads(json.dumps(opt.state_dict(), default=str))
    extra = state.get("extra", state)
    extra.pop("wall_seconds", None)
    for counter in ("tree_seconds", "tree_calls"):  # instrumentation of the tree backend
        extra.get("forest", {}).pop(counter, None)
    return json.dumps(state, sort_keys=True)


def test_mcts_gives_the_same_forest_with_width_1_and_4_and_the_default():
    runs = [_mcts(w) for w in (1, 4, None)]
    (ref, p_ref, llm_ref) = runs[0]
    for opt, p, llm in runs[1:]:
        assert p.value == p_ref.value
        assert opt.val_cache == ref.val_cache
        assert _untimed(opt) == _untimed(ref)  # the whole forest: visits, values, payloads
        assert opt.best == ref.best
        # one scoring per prompt however many jobs ask for it: same calls at any width
        assert llm.accounting.spent().calls == llm_ref.accounting.spent().calls
    assert len(ref.val_cache) > 1  # it did expand


def test_optoprime_candidates_are_the_same_with_width_1_and_3():
    from undertow.optimizers.opto import OptoPrime

    from tests.optimizers.test_optoprime_e2e import _setup, accuracy, train_step

    def once(width: int):
        splits, llm, prompt = _setup(0)
        opt = OptoPrime([prompt], llm, n_candidates=3, fanout=width,
                        evaluate=lambda values: accuracy(llm, prompt, splits.val))
        metas = []
        for step in range(2):
            proposals = train_step(opt, llm, prompt, splits.train[step * 8:(step + 1) * 8])
            metas.append([(p.new, p.accepted, p.meta.get("scores"), p.meta.get("candidate")) for p in proposals])
        return prompt.value, metas, llm.accounting.spent().calls

    one, three = once(1), once(3)
    assert one == three
    assert any(m for m in one[1])  # candidates were proposed and scored
