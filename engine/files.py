"""Atomic file writes: a reader never sees half a file, a crash or kill never leaves one.

The data goes to a temporary file in the target's folder, is flushed to disk, and
then replaces the target with `os.replace` (atomic on POSIX and Windows). Used for
saved modules, bench checkpoints and downloaded data.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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


def atomic_write_many(items: Sequence[tuple[str | os.PathLike[str], bytes]]) -> list[Path]:
    """Replace several files, each atomically and durably, paying about one fsync's wait.

    Every temporary file is written first, then all are fsync'd at once (one thread
    each: the file system commits them together, where one after the other each
    waits for its own commit), then each replaces its target in the given order, so a
    reader that trusts the last file (a checkpoint saying "done") finds the others
    already in place. A crash before the last replace leaves some targets old and
    none half-written.
    """
    staged: list[tuple[Path, str]] = []
    fds: list[int] = []  # open temporary files (closed ones leave the list)
    try:
        for target, data in items:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((path, tmp))
            fds.append(fd)
            os.fchmod(fd, 0o666 & ~current_umask())
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        if len(fds) == 1:
            os.fsync(fds[0])
        elif fds:
            with ThreadPoolExecutor(max_workers=len(fds)) as pool:
                list(pool.map(os.fsync, fds))
        while fds:
            os.close(fds.pop())
        for path, tmp in staged:
            os.replace(tmp, path)
    except BaseException:
        while fds:
            os.close(fds.pop())
        for _, tmp in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    return [path for path, _ in staged]


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = True) -> Path:
    """`atomic_write_bytes` of `text` as UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
