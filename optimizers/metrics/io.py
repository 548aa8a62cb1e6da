"""Reading and writing trajectories (JSONL, one trajectory a line) and metric sets (JSON).

The trajectory format, one JSON object per line:

    {"id": "run1-3", "task": "catalog", "feedback": "It looked the item up twice.",
     "score": 0.8, "steps": [{"index": 0, "kind": "thought", "text": "I should look it up."},
                              {"index": 1, "kind": "tool_call", "tool": "lookup", "text": "lookup[Orion crate]"},
                              {"index": 2, "kind": "observation", "text": "Orion crate: weight 12.5 kg"},
                              {"index": 3, "kind": "output", "text": "12.5 kg"}]}

`kind` is one of thought / tool_call / observation / output. Errors name the line, the
field and the fix. Files are written atomically (a crash never leaves half a file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError
from undertow.engine.files import atomic_write_text
from undertow.optimizers.metrics.schemas import MetricSet, Trajectory


class TrajectoryFileError(ValueError):
    """A trajectories file that cannot be read: the message says where and how to fix it."""


def _explain(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        loc = ".".join(str(p) for p in e["loc"]) or "(the object)"
        parts.append(f"field {loc!r}: {e['msg']}")
    return "; ".join(parts)


def parse_trajectories(text: str, source: str = "<text>") -> list[Trajectory]:
    """Trajectories from JSONL text; blank lines are skipped. Raises `TrajectoryFileError`."""
    found: list[Trajectory] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):  # JSONL lines end with \n only
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrajectoryFileError(
                f"{source}:{number}: not valid JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object") from None
        if not isinstance(obj, dict):
            raise TrajectoryFileError(f"{source}:{number}: expected a JSON object with id, task, "
                                      f"steps, feedback; got {type(obj).__name__}")
        try:
            traj = Trajectory.model_validate(obj)
        except ValidationError as exc:
            raise TrajectoryFileError(
                f"{source}:{number}: {_explain(exc)}; fix that field (format: docs/metrics.md)") from None
        if traj.id in seen:
            raise TrajectoryFileError(f"{source}:{number}: id {traj.id!r} already used on line "
                                      f"{seen[traj.id]}; give every trajectory its own id")
        seen[traj.id] = number
        found.append(traj)
    return found


def read_trajectories(path: str | Path) -> list[Trajectory]:
    """Trajectories from a JSONL file (see the module docstring for the format)."""
    p = Path(path)
    if not p.is_file():
        raise TrajectoryFileError(f"{p}: no such file; pass a trajectories JSONL file "
                                  "(make one with `undertow metrics export RUN_DIR -o RUNS.jsonl`)")
    return parse_trajectories(p.read_text(encoding="utf-8"), str(p))


def dump_trajectories(trajectories: Iterable[Trajectory]) -> str:
    """JSONL text of `trajectories`, one a line."""
    return "".join(t.model_dump_json(exclude_none=True) + "\n" for t in trajectories)


def write_trajectories(path: str | Path, trajectories: Iterable[Trajectory]) -> Path:
    """Write trajectories as JSONL, atomically."""
    return atomic_write_text(path, dump_trajectories(trajectories))


def write_metric_set(path: str | Path, metric_set: MetricSet) -> Path:
    """Write a metric set as JSON, atomically."""
    return atomic_write_text(path, metric_set.model_dump_json(indent=1) + "\n")


def read_metric_set(path: str | Path) -> MetricSet:
    """A metric set written by `write_metric_set` (or `undertow metrics induce`)."""
    p = Path(path)
    if not p.is_file():
        raise TrajectoryFileError(f"{p}: no such file; make one with `undertow metrics induce RUNS.jsonl`")
    try:
        return MetricSet.model_validate_json(p.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise TrajectoryFileError(f"{p}: not a metrics file ({_explain(exc)}); "
                                  "make one with `undertow metrics induce`") from None
