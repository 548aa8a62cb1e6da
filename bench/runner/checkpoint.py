"""Atomic JSON files: a reader never sees half a file, a kill never leaves one.

Each write goes to a temporary file in the same folder, is flushed to disk, then
replaces the target with `os.replace` (atomic on POSIX and Windows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from undertow.bench.runner.errors import BenchError
from undertow.engine.files import atomic_write_text


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace `path` with `text` in one step (`durable=False`: no fsync, see `atomic_write_bytes`)."""
    atomic_write_text(path, text, durable=durable)


def write_json(path: Path, data: Any, *, durable: bool = True, compact: bool = False) -> None:
    """`write_atomic` of `data` as JSON (NaN/inf refused: they are not JSON).

    `compact` drops the indentation (files written at every step, read by programs)."""
    write_atomic(path, json_text(data, compact=compact), durable=durable)


def json_text(data: Any, *, compact: bool = False) -> str:
    """`data` as the JSON text `write_json` writes (indented unless `compact`)."""
    if compact:
        return json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n"
    return json.dumps(data, indent=1, allow_nan=False) + "\n"


def read_json(path: Path) -> Any:
    """The JSON in `path`; a `BenchError` naming the file if it is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BenchError(f"{path} is not valid JSON ({exc}); delete it to redo that run") from None


def rng_state(state: tuple[Any, ...]) -> list[Any]:
    """`random.Random.getstate()` as JSON data."""
    version, internal, gauss = state
    return [version, list(internal), gauss]


def rng_restore(data: list[Any]) -> tuple[Any, ...]:
    """The inverse of `rng_state`, for `random.Random.setstate`."""
    version, internal, gauss = data
    return (version, tuple(internal), gauss)
