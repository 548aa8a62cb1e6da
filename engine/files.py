"""Atomic file writes: a reader never sees half a file, a crash or kill never leaves one.

The data goes to a temporary file in the target's folder, is flushed to disk, and
then replaces the target with `os.replace` (atomic on POSIX and Windows). Used for
saved modules, bench checkpoints and downloaded data.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace `path` with `data` in one step; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """`atomic_write_bytes` of `text` as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))
