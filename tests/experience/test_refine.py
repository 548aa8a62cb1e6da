"""The simulated curator role and condition refinement (hurt / missed), on the real sim and a script."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.tasks.reasoning import boolean_expressions as be
from undertow.engine.llm import LLM, make_llm
from undertow.bench.sim.curate import parse_insights
from undertow.engine.llm.types import Reply
from undertow.optimizers.experience import ExperienceStore, apply_operations
from undertow.optimizers.experience.curator import (
    parse_reply,
    render_insight,
    render_request,
)
from undertow.optimizers.experience.feedback import Example
from undertow.optimizers.experience.records import Insight
from undertow.optimizers.experience.refine import (
    find_refinements,
    log_items,
    parse_refine_reply,
    refine_conditions,
)

P = be.PROFILE
TASK = "boolean_expressions"


class ScriptBackend:
    """A backend replaying fixed replies through the real `LLM` client (for content the sim cannot write)."""

    provider, endpoint = "script", "script://"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)

    def complete(self, request, *, timeout=None, stream=False):
        return Reply(text=self.replies.pop(0), prompt_tokens=1, completion_tokens=1, model="script")

    async def acomplete(self, request, **kw):
        return self.complete(request)

    def close(self) -> None:
        pass


def items_needing(skills: set[str], n: int, start: int = 0) -> list[str]:
    """Generated items whose needed skills are exactly `skills`."""
    out, seed = [], start
    while len(out) < n:
        item = P.find_items(be.generate(random.Random(seed)).input)[-1].text
        if P.needed_skills(item) == skills:
            out.append(item)
        seed += 1
    return out


def failing(item: str, skill: str) -> Example:
    return Example(item, f"Answer: {P.answer_without(item, frozenset({skill}))}", 0.0, P.solve(item))


def active_insight(store: ExperienceStore, skill: str, condition: str = "") -> str:
    rid = apply_operations(store, [{"op": "ADD", "explanation": P.skill(skill).fix, "condition": condition,
                                    "taxonomy": [TASK]}], scope=TASK).added[0]
    store.set_status(rid, "verified")
    store.set_status(rid, "active")
    return rid


# -- the sim's curator role --------------------------------------------------------------------
def test_sim_curator_adds_the_diagnosed_skill_as_a_typed_insight_llm_sim() -> None:
    items = items_needing({"not_scope"}, 3)
    ok = Example(items_needing(set(), 1)[0], "Answer: True", 1.0)
    hits = 0
    for seed in range(20):
        llm = make_llm("sim", cache_dir=False, seed=seed)
        reply = llm.complete(render_request("Answer the question.", [], [failing(i, "not_scope") for i in items],
                                            [ok]), purpose="optimizer")
        ops = parse_reply(reply.text, "Answer the question.", scope=TASK)
        assert ops and all(o["op"] == "ADD" for o in ops)
        add = ops[0]
        assert add["taxonomy"][0] == TASK and add["condition"] and add["explanation"]
        hits += add["taxonomy"][1] == "not_scope" and P.skill("not_scope").taught_by(add["explanation"])
        if add["taxonomy"][1] == "not_scope":
            assert add["example"].split(" -> ")[0] in items
    assert hits >= 15                      # a 10 % misreading is allowed, no more


def test_sim_curator_upvotes_an_insight_that_already_teaches_the_skill_llm_sim(store: ExperienceStore) -> None:
    rid = active_insight(store, "not_scope")
    known = store.records(kinds=["insight"])
    request = render_request("Answer the question.", known,
                             [failing(i, "not_scope") for i in items_needing({"not_scope"}, 3)], [])
    votes = 0
    for seed in range(40):      # the id is random, so the sim's draws differ per run: many seeds
        reply = make_llm("sim", cache_dir=False, seed=seed).complete(request, purpose="optimizer")
        votes += {"op": "UPVOTE", "id": rid} in parse_reply(reply.text, "", scope=TASK)
    # about 36 expected (a 10 % misreading picks another skill; 32-40 over 25 random ids,
    # sd 1.8): 24 is over 6 sd below, so only a real regression fails, not a draw
    assert votes >= 24


def test_sim_refines_a_condition_to_where_the_insight_helped_llm_sim(store: ExperienceStore) -> None:
    rid = active_insight(store, "not_scope", condition="any boolean expression")
    helped = items_needing({"not_scope"}, 3)
    hurt = items_needing({"double_negation"}, 2)
    log_items(store, [Example(i, "Answer: True", 1.0) for i in hurt], [[]] * 2, scope=TASK)
    log_items(store, [Example(i, f"Answer: {P.solve(i)}", 1.0) for i in helped]
              + [Example(i, "Answer: x", 0.0, P.solve(i)) for i in hurt], [[rid]] * 5, scope=TASK)
    refs = find_refinements(store, TASK)
    assert [r.id for r in refs] == [rid] and len(refs[0].hurt) == 2 and len(refs[0].helped) == 3
    report, last = refine_conditions(store, make_llm("sim", cache_dir=False), TASK)
    cond = store.get(rid).condition
    assert report.applied == [f"REFINE_CONDITION {rid}"] and last == refs[0].last_seq
    assert P.skill("not_scope").description in cond
    assert "Not for" in cond and P.skill("double_negation").description in cond
    ops = [op for op, _ in store.history(rid)]
    assert ops[-1] == "refine_condition" and store.history(rid)[0][1].condition == "any boolean expression"
    # the same evidence is not sent twice
    assert find_refinements(store, TASK, after_seq=last) == []


def test_missed_items_are_found_by_bm25_and_widen_the_condition_llm_sim(store: ExperienceStore) -> None:
    shown = active_insight(store, "and_before_or", condition="and or precedence")
    missed_one = active_insight(store, "double_negation", condition="nots in a row, double negation")
    items = items_needing({"double_negation"}, 3, start=50)
    log_items(store, [Example(i, "Answer: x", 0.0, P.solve(i), feedback="the nots were not counted; "
                              "double negation") for i in items], [[shown]] * 3, scope=TASK)
    refs = {r.id: r for r in find_refinements(store, TASK)}
    assert missed_one in refs and len(refs[missed_one].missed) == 3
    refine_conditions(store, make_llm("sim", cache_dir=False), TASK)
    assert P.skill("double_negation").description in store.get(missed_one).condition


def test_items_before_an_insight_existed_are_not_missed(store: ExperienceStore) -> None:
    items = items_needing({"double_negation"}, 2, start=80)
    log_items(store, [Example(i, "x", 0.0, feedback="double negation") for i in items], [[]] * 2, scope=TASK)
    active_insight(store, "double_negation", condition="double negation")
    assert find_refinements(store, TASK) == []


# -- scripted replies: content the sim never writes --------------------------------------------
def test_scripted_refine_replies_are_validated(store: ExperienceStore) -> None:
    rid = active_insight(store, "not_scope", condition="old")
    other = active_insight(store, "parentheses", condition="keep")
    items = items_needing({"not_scope"}, 2, start=200)
    log_items(store, [Example(i, P.solve(i), 1.0) for i in items], [[]] * 2, scope=TASK)
    log_items(store, [Example(i, "x", 0.0) for i in items], [[rid]] * 2, scope=TASK)
    bad = ["not json at all", '{"operations": "REFINE_CONDITION"}',
           (f'{{"operations": [{{"op": "REFINE_CONDITION", "id": "{other}", "condition": "hijack"}},'
           f' {{"op": "DEPRECATE", "id": "{rid}"}}]}}'),
           f'{{"operations": [{{"op": "REFINE_CONDITION", "id": "{rid}", "condition": ""}}]}}']
    for text in bad:
        report, _ = refine_conditions(store, LLM(ScriptBackend([text]), model="script"), TASK)
        assert report.applied == [] and report.dropped
        assert store.get(rid).condition == "old" and store.get(rid).status == "active"
        assert store.get(other).condition == "keep"
    good = f'```json\n{{"reasoning": "r", "operations": [{{"op": "refine_condition", "id": "{rid}", ' \
           f'"condition": "only items with a not before a group"}}]}}\n```'
    report, _ = refine_conditions(store, LLM(ScriptBackend([good]), model="script"), TASK)
    assert store.get(rid).condition == "only items with a not before a group"
    assert [op for op, _ in store.history(rid)][-1] == "refine_condition"


# -- parsers: never raise, never let another id through ------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["insight-00aa", "insight-ffee"]))
def test_parse_refine_reply_never_raises_and_keeps_only_its_id(text: str, rid: str) -> None:
    ops, _ = parse_refine_reply(text, rid)
    assert len(ops) <= 1 and all(o["id"] == rid for o in ops)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=200).filter(lambda t: t.strip()))
def test_insight_blocks_round_trip_through_the_sim_parser(text: str) -> None:
    rec = Insight(id="insight-0123ab", explanation=text)
    got = parse_insights(render_insight(rec))
    assert [(g.id, g.text) for g in got] == [(rec.id, rec.render().strip())]


def test_optimizer_refine_step_applies_and_remembers_the_evidence_llm_sim(store: ExperienceStore) -> None:
    from undertow.engine import Parameter
    from undertow.optimizers.experience import ExperienceOptimizer

    rid = active_insight(store, "not_scope", condition="anything")
    items = items_needing({"parentheses"}, 2, start=300)
    log_items(store, [Example(i, f"Answer: {P.solve(i)}", 1.0) for i in items], [[]] * 2, scope=TASK)
    log_items(store, [Example(i, "Answer: x", 0.0, P.solve(i)) for i in items], [[rid]] * 2, scope=TASK)
    opt = ExperienceOptimizer([Parameter("", name="experience")], store=store,
                              llm=make_llm("sim", cache_dir=False), scope=TASK)
    gen = store.generation
    report = opt.refine()
    assert f"REFINE_CONDITION {rid}" in report.applied and opt.generation >= gen
    cond = store.get(rid).condition      # no item helped: the insight's own skill, hurt items excluded
    assert P.skill("not_scope").description in cond and P.skill("parentheses").description in cond
    fresh = ExperienceOptimizer([Parameter("", name="experience")], store=store,
                                llm=make_llm("sim", cache_dir=False), scope=TASK)
    fresh.load_extra_state(opt.extra_state())
    assert fresh.refined_seq == opt.refined_seq > 0
    assert opt.refine().applied == []              # nothing new to refine
