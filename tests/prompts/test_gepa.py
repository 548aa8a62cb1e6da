"""GEPA: the Pareto front over instances, parent sampling in proportion to instances won,
reflective mutation of one parameter from its traces, system-aware merge, budget, resume,
and improvement of the two-prompt program on the simulator."""

from __future__ import annotations

import random
from collections import Counter

from undertow.engine import Parameter
from undertow.optimizers.program import mean
from undertow.optimizers.prompts import GEPA

from tests.prompts.helpers import WordProgram, items, scripted, suggest


def _gepa_with_pool(scores, values=None, parents=None):
    a, b = Parameter("x", kind="text", name="a"), Parameter("y", kind="text", name="b")
    prog = WordProgram([a, b], {})
    llm, _ = scripted(lambda text, r: "{}")
    g = GEPA(prog, llm, train=items(4), val=items(len(scores[0])))
    for k, s in enumerate(scores):
        g.pool.append({"values": (values or [{"a": "x", "b": "y"}] * len(scores))[k],
                       "parents": (parents or [[]] * len(scores))[k], "origin": "t", "scores": list(s),
                       "next_param": 0, "step": 0})
    return g


def test_pareto_front_keeps_instance_winners_and_drops_dominated():
    g = _gepa_with_pool([
        [1, 1, 0, 0],   # best on 0, 1
        [0, 0, 1, 0],   # the only one solving 2: kept despite its low mean
        [1, 1, 0, 0],   # equal to 0: both on the front
        [1, 0, 0, 0],   # best on 0 but dominated by 0
        [0, 0, 0, 0],   # best on 3 (everyone ties at 0), dominated
    ])
    front = g.front()
    assert set(front) == {0, 1, 2}
    assert front[0] == 2 and front[1] == 1


def test_parents_are_drawn_in_proportion_to_instances_won():
    g = _gepa_with_pool([[1, 1, 1, 0], [0, 0, 0, 1]])
    rng = random.Random(0)
    counts = Counter(g.select_parent(rng) for _ in range(4000))
    assert abs(counts[0] / 4000 - 0.75) < 0.03


def test_merge_combines_candidates_that_changed_different_parameters():
    values = [{"a": "x", "b": "y"}, {"a": "x2", "b": "y"}, {"a": "x", "b": "y2"}]
    g = _gepa_with_pool([[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], values, [[], [0], [0]])
    assert g.merge_candidates() == (1, 2, 0)
    g.program.quality = {"x2": 1.0, "y2": 1.0}
    g.program.route = lambda it: "a" if int(it.input[1:]) % 2 else "b"
    import asyncio
    asyncio.run(g._merge((1, 2, 0)))
    merged = g.pool[-1]
    assert merged["origin"] == "merge" and merged["values"] == {"a": "x2", "b": "y2"}
    assert merged["parents"] == [1, 2] and g.merge_candidates() is None  # not merged twice


def test_reflective_mutation_changes_one_parameter_from_its_traces():
    a, b = Parameter("start", kind="text", name="a"), Parameter("start", kind="text", name="b")
    prog = WordProgram([a, b], {"start": 0.0, "fixed": 1.0},
                       route=lambda it: "a" if int(it.input[1:]) % 2 else "b")

    def reflect(text, request):
        name = "a" if 'name="a"' in text else "b"
        return suggest(name, "fixed " + name)
    llm, backend = scripted(reflect)
    g = GEPA(prog, llm, train=items(20), val=items(10), minibatch=6, merge_every=0)
    for _ in range(2):
        g.step()
    assert (a.value, b.value) == ("fixed a", "fixed b")  # a first, then the child goes on to b
    kept = [e for e in g.events if e["kind"] == "mutation" and e["kept"]]
    assert kept and all(e["param"] in ("a", "b") for e in kept)
    # each reflection request showed only items routed to its parameter
    for text in backend.seen:
        name = "a" if 'name="a"' in text else "b"
        shown = [int(x.split("<")[0]) for x in text.split("<input>q")[1:]]
        assert shown and all((k % 2 == 1) == (name == "a") for k in shown)
    assert g.rollouts == sum(v for k, v in g.budget.items() if k.endswith("rollouts")) == prog.answered
    state = g.state_dict()
    g2 = GEPA(WordProgram([Parameter("start", kind="text", name="a"), Parameter("start", kind="text", name="b")], {}),
              llm, train=items(20), val=items(10))
    g2.load_state_dict(state)
    assert g2.pool == g.pool and g2.rollouts == g.rollouts


def test_max_rollouts_stops_the_search():
    p = Parameter("start", kind="text", name="a")
    llm, _ = scripted(lambda text, r: suggest("a", "fixed"))
    g = GEPA(WordProgram([p], {"fixed": 1.0}), llm, train=items(10), val=items(5), max_rollouts=5)
    g.step()
    spent = g.rollouts
    g.step()
    assert g.rollouts == spent


def test_gepa_improves_the_two_prompt_program_on_the_sim():
    from undertow.bench.runner.routed import RoutedRun
    from undertow.bench.runner.tasks import SplitSizes, TaskContext
    from undertow.engine.llm import make_llm

    llm = make_llm("sim", cache_dir=False)
    run = RoutedRun(TaskContext(seed=0, llm=llm, eval_llm=llm, sizes=SplitSizes(30, 20, 40), batch_size=4,
                                propagator="subgraph"))
    prog = run.program()
    before = mean(prog.run(prog.current(), run.splits.test))
    g = GEPA(prog, llm, train=run.splits.train, val=run.splits.val, seed=0)
    for _ in range(8):
        g.step()
    after = mean(prog.run(prog.current(), run.splits.test))
    assert after >= before + 0.15, (before, after, g.events)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.lists(
    st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n), min_size=1, max_size=7)))
def test_front_invariants(scores):
    g = _gepa_with_pool(scores)
    front = g.front()
    assert front and all(n >= 1 for n in front.values())
    # no front member is dominated by another candidate of the pool
    for a in front:
        for b in range(len(scores)):
            if b != a and scores[b] != scores[a]:
                assert not all(x >= y for x, y in zip(scores[b], scores[a]))
    # every instance that tells candidates apart has its best score on the front
    for i in range(len(scores[0])):
        column = [s[i] for s in scores]
        if min(column) != max(column):
            assert max(scores[k][i] for k in front) == max(column)
