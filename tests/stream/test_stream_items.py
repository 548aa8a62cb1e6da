"""Streams: deterministic per seed, interleaved, balanced; mixes parsed with clear errors."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as s
from undertow.bench.tasks.reasoning import TASK_NAMES
from undertow.bench.tasks.stream import MIXES, make_stream, parse_mix


@given(seed=s.integers(0, 10_000), n=s.integers(1, 40))
def test_same_seed_same_stream_and_balanced(seed, n):
    a, b = make_stream(seed, n), make_stream(seed, n)
    assert [(i.task, i.example.input) for i in a] == [(i.task, i.example.input) for i in b]
    assert [i.index for i in a] == list(range(n))
    counts = Counter(i.task for i in a)
    assert max(counts.values()) - min(counts.get(t, 0) for t in MIXES["mixed"]) <= 1
    assert len({i.example.input for i in a}) == n  # no item twice


def test_stream_is_the_same_in_another_process():
    here = [(i.task, i.example.input) for i in make_stream(3)]
    code = ("from undertow.bench.tasks.stream import make_stream; "
            "print(repr([(i.task, i.example.input) for i in make_stream(3)]))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert repr(here) == there.strip()


def test_seeds_differ_and_tasks_interleave():
    a, b = make_stream(0), make_stream(1)
    assert [i.example.input for i in a] != [i.example.input for i in b]
    runs = sum(1 for x, y in zip(a, a[1:]) if x.task != y.task)
    assert runs > len(a) // 3  # interleaved, not three blocks


@given(s.lists(s.sampled_from(TASK_NAMES), min_size=1, max_size=4, unique=True))
def test_parse_mix_reads_plus_joined_tasks(names):
    assert parse_mix(" + ".join(names)) == tuple(names)


@given(s.text(max_size=30))
def test_parse_mix_never_accepts_unknown_names(text):
    try:
        got = parse_mix(text)
    except ValueError as exc:
        assert "mix" in str(exc)
    else:
        assert set(got) <= set(TASK_NAMES)


@pytest.mark.parametrize("bad, says", [("", "empty"), ("boolean_expressions+nope", "unknown task 'nope'"),
                                      ("navigation+navigation", "twice")])
def test_bad_mix_errors_name_the_problem(bad, says):
    with pytest.raises(ValueError, match=says):
        parse_mix(bad)
    with pytest.raises(ValueError, match="at least one item"):
        make_stream(0, 0)
