"""A library that lives in a run folder and is checkpointed with the optimizer's state.

A bench run checkpoints `optimizer.state_dict()` after every step and, when killed,
resumes from it (and drops a half-done step by loading the last state). The library's
SQLite file changes *during* a step, so on its own it would be ahead of the checkpoint
after a kill. `Snapshots` ties the two together: every `state_dict()` copies the library
(SQLite's online backup, into a temporary file, then `os.replace`) to
`<folder>/snapshots/<step>.db` and names that copy in the state; `load_state_dict()`
copies it back into the open library. Copies older than the one before the newest are
deleted, so the copy any checkpoint on disk names still exists.

`PersistedExperience` and `PersistedBootstrap` are the two library optimizers with
snapshots and a fixed base prompt ahead of the retrieved records (their slot is the
agent's whole system prompt, so the base stays in it).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from undertow.optimizers.experience.bootstrap import TrajectoryBootstrap
from undertow.optimizers.experience.optimizer import ExperienceOptimizer
from undertow.optimizers.experience.schema import ExperienceStoreError
from undertow.optimizers.experience.store import ExperienceStore
from undertow.optimizers.experience.stream import ExpRAG, ReMem

LIBRARY = "library.db"
SNAPSHOTS = "snapshots"


def fresh_store(folder: str | Path) -> ExperienceStore:
    """An empty library at `<folder>/library.db` with sequential ids (reproducible runs).

    Whatever a killed run left there is removed: a resumed run restores its library from
    the snapshot its checkpoint names, so starting empty is right in both cases.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (folder / f"{LIBRARY}{suffix}").unlink(missing_ok=True)
    return ExperienceStore(folder / LIBRARY, ids="sequential")


def save_snapshot(store: ExperienceStore, path: Path) -> None:
    """Copy the library to `path` in one step (backup to a temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        dst = sqlite3.connect(tmp)
        try:
            with store._lock:
                store._conn.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_snapshot(store: ExperienceStore, path: Path) -> None:
    """Replace the open library's content with the snapshot at `path` (one backup step)."""
    if not path.is_file():
        raise ExperienceStoreError(f"library snapshot {path} is missing; the run cannot resume its "
                                   "library: delete the run's folder to redo it")
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with store._lock:
            src.backup(store._conn)
    finally:
        src.close()


class Snapshots:
    """Mixin for a `LibraryOptimizer` whose store lives in `folder` (see the module docstring)."""

    folder: Path
    base: str

    def _init_persisted(self, folder: str | Path, base: str) -> None:
        self.folder, self.base = Path(folder), base.strip()

    def _with_base(self, text: str) -> str:
        return "\n".join(x for x in (self.base, text) if x)

    def refresh_slot(self, query: str) -> None:
        got = self.retrieve(query)  # type: ignore[attr-defined]
        self.slot_ids = got.ids
        self.propose(self.slot, self._with_base(got.text),  # type: ignore[attr-defined]
                     reason=f"retrieved {len(got.ids)} records",
                     meta={"generation": self.generation, "ids": got.ids})  # type: ignore[attr-defined]

    def _snapshot_state(self) -> dict[str, Any]:
        step = int(self.steps)  # type: ignore[attr-defined]
        name = f"{step:06d}.db"
        snaps = self.folder / SNAPSHOTS
        save_snapshot(self.store, snaps / name)  # type: ignore[attr-defined]
        for old in snaps.glob("*.db"):
            if old.stem.isdigit() and int(old.stem) < step - 1:
                old.unlink(missing_ok=True)
        return {"snapshot": name}

    def _restore_snapshot(self, state: dict[str, Any]) -> None:
        name = state.get("snapshot")
        if name:
            load_snapshot(self.store, self.folder / SNAPSHOTS / str(name))  # type: ignore[attr-defined]
            self.retriever._cache.clear()  # type: ignore[attr-defined]  # generations may be re-made


def _plain(state: dict[str, Any]) -> dict[str, Any]:
    """The state without the library's absolute path (runs in two folders compare equal)."""
    return {k: v for k, v in state.items() if k != "store"}


class PersistedExperience(Snapshots, ExperienceOptimizer):
    """`ExperienceOptimizer` with a base prompt and library snapshots in its state."""

    def __init__(self, *args: Any, folder: str | Path, base: str = "", **kwargs: Any) -> None:
        self._init_persisted(folder, base)
        super().__init__(*args, **kwargs)

    def _slot_text(self, generation: int) -> str:
        return self._with_base(super()._slot_text(generation))

    def extra_state(self) -> dict[str, Any]:
        return {**_plain(super().extra_state()), **self._snapshot_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self._restore_snapshot(state)
        super().load_extra_state(state)


class PersistedBootstrap(Snapshots, TrajectoryBootstrap):
    """`TrajectoryBootstrap` with a base prompt and library snapshots in its state."""

    def __init__(self, *args: Any, folder: str | Path, base: str = "", **kwargs: Any) -> None:
        self._init_persisted(folder, base)
        super().__init__(*args, **kwargs)

    def extra_state(self) -> dict[str, Any]:
        return {**_plain(super().extra_state()), **self._snapshot_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self._restore_snapshot(state)
        super().load_extra_state(state)


class _StreamSnapshots(Snapshots):
    """A stream memory (ExpRAG, ReMem) whose library lives in `folder`, snapshotted in its state."""

    def __init__(self, *args: Any, folder: str | Path, **kwargs: Any) -> None:
        self._init_persisted(folder, "")
        super().__init__(*args, **kwargs)

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), **self._snapshot_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self._restore_snapshot(state)
        super().load_extra_state(state)


class PersistedExpRAG(_StreamSnapshots, ExpRAG):
    """`ExpRAG` with library snapshots in its state (a stream run resumes with its memory)."""


class PersistedReMem(_StreamSnapshots, ReMem):
    """`ReMem` with library snapshots in its state."""
