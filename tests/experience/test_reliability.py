"""Reliability with real processes: SIGKILL mid-write, and two writers at once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from undertow.optimizers.experience import ExperienceStore

WRITER = textwrap.dedent("""
    import sys
    from undertow.optimizers.experience import ExperienceStore, Insight
    store = ExperienceStore(sys.argv[1])
    tag, n = sys.argv[2], int(sys.argv[3])
    rid = store.add(Insight(explanation=f"writer {tag}")).id
    for i in range(n):
        seq = store.log_event(rid, "outcome", reward=1.0, run=tag, detail={"i": i, "pad": "x" * 2000})
        if i % 10 == 0:
            store.update(rid, explanation=f"writer {tag} step {i} " + "y" * 3000)
        print(seq, flush=True)
""")


def _spawn(path: Path, tag: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, str(n)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_mid_write_loses_no_committed_event(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    ExperienceStore(path).close()
    proc = _spawn(path, "k", 100_000)
    assert proc.stdout is not None
    committed = [int(proc.stdout.readline()) for _ in range(150)]
    os.kill(proc.pid, signal.SIGKILL)   # it is writing its next event right now
    rest = proc.stdout.read()           # anything printed before death was committed too
    proc.wait()
    committed += [int(x) for x in rest.split()]
    assert proc.returncode == -signal.SIGKILL
    with ExperienceStore(path) as store:   # opening runs the integrity check
        seqs = {e.seq for e in store.events(kinds=["outcome"])}
        assert set(committed) <= seqs
        assert seqs - set(committed) <= {max(seqs)}   # at most the one in flight, if it committed
        (rec,) = store.records()
        assert [v.version for _, v in store.history(rec.id)] == list(range(1, rec.version + 1))
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    ExperienceStore(path).close()
    procs = [_spawn(path, tag, 120) for tag in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    printed = [int(x) for out, _ in outs for x in out.split()]
    with ExperienceStore(path) as store:
        events = store.events(kinds=["outcome"])
        assert sorted(e.seq for e in events) == sorted(printed) and len(printed) == 240
        assert {e.run for e in events} == {"a", "b"}
        assert len(store.records()) == 2
        assert all(r.version == 13 for r in store.records())
