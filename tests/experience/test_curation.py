"""Curator operations: validated in code, importance counted, nothing deleted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.experience import (
    ExperienceStore,
    apply_operations,
    parse_operations,
)
from undertow.optimizers.experience.curation import verify_candidates


def _add(store: ExperienceStore, text: str) -> str:
    report = apply_operations(store, [{"op": "ADD", "explanation": text, "condition": "always"}])
    return report.added[0]


def test_add_then_votes_follow_the_importance_arithmetic(store: ExperienceStore) -> None:
    rid = _add(store, "Evaluate not before and.")
    assert store.stats()[rid].importance == 2
    apply_operations(store, [{"op": "UPVOTE", "id": rid}, {"op": "downvote", "id": rid},
                             {"op": "DOWNVOTE", "id": rid}])
    assert store.stats()[rid].importance == 1
    assert store.get(rid).status == "candidate"
    apply_operations(store, [{"op": "DOWNVOTE", "id": rid}])
    assert store.get(rid).status == "deprecated"          # at 0: deprecated, not deleted
    assert store.exists(rid) and len(store.history(rid)) == 2


def test_identical_edit_counts_as_upvote(store: ExperienceStore) -> None:
    rid = _add(store, "Evaluate not before and.")
    report = apply_operations(store, [{"op": "EDIT", "id": rid, "explanation": "  evaluate NOT before and. "}])
    assert "UPVOTE" in report.applied[0]
    assert len(store.history(rid)) == 1 and store.stats()[rid].importance == 3
    apply_operations(store, [{"op": "EDIT", "id": rid, "explanation": "Apply not first."}])
    assert store.get(rid).explanation == "Apply not first." and store.stats()[rid].importance == 4


def test_repeated_add_is_an_upvote_not_a_duplicate(store: ExperienceStore) -> None:
    rid = _add(store, "Keep duplicates.")
    report = apply_operations(store, [{"op": "ADD", "explanation": "keep duplicates."}])
    assert report.added == [] and len(store.records()) == 1 and store.stats()[rid].importance == 3


def test_unknown_ids_malformed_ops_and_the_cap_are_dropped(store: ExperienceStore) -> None:
    rid = _add(store, "a")
    ops = [{"op": "UPVOTE", "id": "insight-ffffff"}, {"op": "EDIT", "id": rid}, "junk",
           {"op": "FLY"}, *({"op": "UPVOTE", "id": rid} for _ in range(5))]
    report = apply_operations(store, ops, cap=3)
    reasons = " | ".join(r for _, r in report.dropped)
    assert "unknown id" in reasons and "invalid EDIT" in reasons and "unknown op" in reasons
    assert "JSON object" in reasons and reasons.count("over the cap of 3") == 3
    assert store.stats()[rid].importance == 2 + 2   # the unknown id used one slot of the cap


def test_merge_keeps_lineage_and_deprecates_sources(store: ExperienceStore) -> None:
    a, b = _add(store, "Sort by every letter."), _add(store, "Compare all letters.")
    report = apply_operations(store, [{"op": "MERGE", "ids": [a, b], "explanation": "Compare every letter."}])
    (m,) = report.added
    merged = store.get(m)
    assert merged.merged_from == [a, b] and store.stats()[m].importance == 4
    assert {store.get(a).status, store.get(b).status} == {"deprecated"}
    again = apply_operations(store, [{"op": "UPVOTE", "id": a}])
    assert "deprecated" in again.dropped[0][1]


def test_refine_condition_and_deprecate(store: ExperienceStore) -> None:
    rid = _add(store, "x")
    apply_operations(store, [{"op": "REFINE_CONDITION", "id": rid, "condition": "only with nested groups"}])
    assert store.get(rid).condition == "only with nested groups"
    apply_operations(store, [{"op": "DEPRECATE", "id": rid, "reason": "hurt accuracy"}])
    assert store.get(rid).status == "deprecated"


def test_verification_promotes_only_passing_candidates(store: ExperienceStore) -> None:
    good, bad = _add(store, "good"), _add(store, "bad")
    result = verify_candidates(store, lambda rec: rec.explanation == "good")
    assert result == {good: True, bad: False}
    assert store.get(good).status == "verified" and store.get(bad).status == "candidate"
    verify_candidates(store, lambda rec: False)
    assert store.get(bad).status == "deprecated"          # importance 2 -> 1 -> 0


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                     max_leaves=12)
_opish = st.fixed_dictionaries({"op": st.sampled_from(["ADD", "edit", "UPVOTE", "MERGE", "x", "DEPRECATE"])},
                               optional={"id": st.text(max_size=12), "ids": st.lists(st.text(max_size=8)),
                                         "explanation": st.text(max_size=30), "condition": _json})


@settings(max_examples=80, deadline=None)
@given(st.one_of(_json, st.lists(_opish | _json, max_size=6), st.text(max_size=60)))
def test_parser_never_raises_and_accounts_for_everything(data: object) -> None:
    ops, dropped = parse_operations(data)
    if isinstance(data, list):
        assert len(ops) + len(dropped) == len(data)
    as_text = parse_operations(json.dumps(data))
    assert len(as_text[0]) == len(ops)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ADD", "EDIT", "UPVOTE", "DOWNVOTE", "MERGE",
                                           "REFINE_CONDITION", "DEPRECATE"]),
                          st.integers(0, 5), st.integers(0, 5), st.sampled_from(["a", "b", "c"])),
                max_size=15))
def test_no_operation_sequence_deletes_or_breaks_anything(tmp_path_factory: pytest.TempPathFactory,
                                                          script: list[tuple[str, int, int, str]]) -> None:
    with ExperienceStore(tmp_path_factory.mktemp("c") / "lib.db") as store:
        ids: list[str] = []
        seen: set[str] = set()
        for op, i, j, text in script:
            def pick(n: int, ids: list[str] = ids) -> str:
                return ids[n % len(ids)] if ids else "insight-000000"
            body = {"op": op, "id": pick(i), "ids": [pick(i), pick(j)], "explanation": text,
                    "condition": text}
            report = apply_operations(store, [body])
            ids += report.added
            seen |= set(report.added)
            assert {r.id for r in store.records()} == seen     # nothing ever disappears
        for rid, s in store.stats().items():
            if s.importance <= 0:
                assert store.get(rid).status == "deprecated"
