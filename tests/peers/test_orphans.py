"""A killed bench worker leaves no peer process behind: the sim-server it started for a
peer (and the peer's driver, started the same way) die with it, even on SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

CHILD = """
import os, sys
from undertow.bench.sim.server import start_in_subprocess
with start_in_subprocess(die_with_parent=True) as srv:
    print(srv.process.pid, flush=True)
    sys.stdin.read()          # wait until killed
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:   # a zombie is dead too
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_the_sim_server_of_a_killed_worker_dies_with_it():
    worker = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    server_pid = int(worker.stdout.readline())
    assert _alive(server_pid)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    for _ in range(200):  # the kernel delivers the signal at once; reaping may lag
        if not _alive(server_pid):
            break
        time.sleep(0.05)
    assert not _alive(server_pid)
