"""The reply parsers: synonyms understood, malformed entries skipped and counted, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.metrics import ReplyError, parse_clusters, parse_grounding, parse_ratings
from undertow.optimizers.metrics.parse import read_polarity, read_rating

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_any_reply_gives_entries_or_reply_error(reply: str) -> None:
    for call in (lambda: parse_grounding(reply, "t"), lambda: parse_clusters(reply),
                 lambda: parse_ratings(reply, ["a", "b"])):
        try:
            found, skipped = call()
        except ReplyError:
            continue
        assert skipped >= 0 and len(found) >= 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=20).filter(str.strip), st.sampled_from(
    ["positive", "negative", "Good", "BAD", "pos", "neg"]), st.integers(0, 9)), min_size=1, max_size=5),
       st.sampled_from(["behaviour", "behavior", "description"]), st.sampled_from(["polarity", "sentiment"]))
def test_grounding_synonyms(entries, text_key, pol_key) -> None:
    reply = "Sure:\n" + json.dumps({"items": [{text_key: t, pol_key: p, "step": s} for t, p, s in entries]})
    found, skipped = parse_grounding(reply, "t1")
    assert skipped == 0 and [b.text for b in found] == [t.strip() for t, _, _ in entries]
    assert [b.polarity for b in found] == [read_polarity(p) for _, p, _ in entries]
    assert [b.step for b in found] == [s for _, _, s in entries]


def test_grounding_skips_and_counts_bad_entries() -> None:
    reply = json.dumps({"behaviours": [{"behaviour": "ok", "polarity": "negative", "step": "step 4"},
                                       {"behaviour": "", "polarity": "negative"},
                                       {"behaviour": "x", "polarity": "maybe"}, 7]})
    found, skipped = parse_grounding(reply, "t")
    assert [(b.text, b.step) for b in found] == [("ok", 4)] and skipped == 3
    with pytest.raises(ReplyError):
        parse_grounding("I cannot help with that.", "t")


def test_clusters_names_are_snake_and_unique() -> None:
    reply = json.dumps([{"name": "Repeats Calls!", "definition": "d", "negative": "one", "members": ["b1", "B2"]},
                        {"name": "repeats calls", "definition": "e"}, {"name": "x"}])
    found, skipped = parse_clusters(reply)
    assert [m.name for m, _ in found] == ["repeats_calls", "repeats_calls_2"] and skipped == 1
    assert found[0][0].negative_examples == ["one"] and found[0][1] == ["B1", "B2"]


def test_ratings_match_names_loosely_and_by_position() -> None:
    reply = json.dumps({"ratings": [{"metric": "Uses Tools", "rating": "N/A"}, {"rating": "bad"},
                                    {"metric": "unknown", "rating": "good"}]})
    found, skipped = parse_ratings(reply, ["uses_tools", "short"])
    assert found == {"uses_tools": ("n/a", ""), "short": ("negative", "")} and skipped == 1


@pytest.mark.parametrize("value, want", [("not applicable", "n/a"), ("Positive", "positive"), (-1, "negative"),
                                         (True, "positive"), ("", None), ({}, None)])
def test_read_rating(value, want) -> None:
    assert read_rating(value) == want
