"""Trajectory JSONL format: round trips, and clear errors (line, field, fix) on bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.metrics import (
    MetricSet,
    Step,
    Trajectory,
    TrajectoryFileError,
    dump_trajectories,
    parse_trajectories,
    read_metric_set,
    read_trajectories,
    write_metric_set,
    write_trajectories,
)

texts = st.text(min_size=0, max_size=40)
steps = st.lists(st.tuples(st.sampled_from(["thought", "tool_call", "observation", "output"]), texts,
                           st.none() | st.sampled_from(["lookup", "search"])), max_size=6)
trajectories = st.builds(
    lambda i, task, ss, fb, score: Trajectory(id=f"t{i}", task=task, feedback=fb, score=score,
                                              steps=[Step(index=k, kind=kind, text=t, tool=tool)
                                                     for k, (kind, t, tool) in enumerate(ss)]),
    st.integers(0, 10**6), texts, steps, texts, st.none() | st.floats(-1, 1, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(trajectories, max_size=5, unique_by=lambda t: t.id))
def test_round_trip(trajs: list[Trajectory]) -> None:
    assert parse_trajectories(dump_trajectories(trajs)) == trajs


def test_write_and_read(tmp_path) -> None:
    t = Trajectory(id="a", task="x", steps=[Step(index=0, kind="output", text="hi")], feedback="ok")
    path = write_trajectories(tmp_path / "runs.jsonl", [t])
    assert read_trajectories(path) == [t]
    assert not list(tmp_path.glob("*.tmp*"))


@pytest.mark.parametrize("line, needle", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"id": "a", "task": "x"}', "field 'steps'"),
    ('{"id": "a", "task": "x", "steps": [{"index": 0, "kind": "dance", "text": ""}]}', "steps.0.kind"),
    ('{"id": "a", "task": "x", "steps": [], "extra": 1}', "field 'extra'"),
])
def test_errors_name_line_and_field(line: str, needle: str) -> None:
    good = json.dumps({"id": "z", "task": "x", "steps": []})
    with pytest.raises(TrajectoryFileError) as err:
        parse_trajectories(f"{good}\n\n{line}\n", "runs.jsonl")
    assert "runs.jsonl:3" in str(err.value) and needle in str(err.value)


def test_duplicate_id_and_step_index() -> None:
    line = json.dumps({"id": "a", "task": "x", "steps": []})
    with pytest.raises(TrajectoryFileError, match="already used on line 1"):
        parse_trajectories(f"{line}\n{line}\n")
    dup = json.dumps({"id": "b", "task": "x", "steps": [{"index": 0, "kind": "output", "text": ""}] * 2})
    with pytest.raises(TrajectoryFileError, match="unique"):
        parse_trajectories(dup)


def test_missing_files_say_how_to_make_them(tmp_path) -> None:
    with pytest.raises(TrajectoryFileError, match="undertow metrics export"):
        read_trajectories(tmp_path / "nope.jsonl")
    bad = tmp_path / "m.json"
    bad.write_text("{}")
    with pytest.raises(TrajectoryFileError, match="not a metrics file"):
        read_metric_set(bad)
    ms = MetricSet(llm="sim", metrics=[])
    assert read_metric_set(write_metric_set(tmp_path / "ok.json", ms)) == ms
