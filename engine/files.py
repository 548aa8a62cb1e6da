"""Atomic file writes: a reader never sees half a file, a crash or kill never leaves one.

The data goes to a temporary file in the target's folder, is flushed to disk, and
then replaces the target with `os.replace` (atomic on POSIX and Windows). Used for
saved modules, bench checkpoints and downloaded data.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask (read without changing it where the OS allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:  # elsewhere: set and restore, under a lock
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> Path:
    """Replace `path` with `data` in one step; return the path.

    `durable=False` skips the fsync (a few ms on most disks): the replacement is still
    atomic for every reader and survives the writer being killed (the data is in the
    page cache); only a crash of the whole machine can lose it, leaving the previous
    file or, on some file systems, an empty one. Callers that write often (the bench's
    per-step checkpoints) use it between durable writes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; give it the mode any other new file would get
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = True) -> Path:
    """`atomic_write_bytes` of `text` as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
