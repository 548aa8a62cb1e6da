"""One sandbox pool per test module (workers start once; tests check they stay healthy)."""

from __future__ import annotations

import pytest
from undertow.engine.sandbox import SandboxPool

DOUBLE = "def double(x):\n    return x * 2\n"


@pytest.fixture(scope="module")
def pool():
    # timeout_s is generous: the CPU limit, not the wall clock, must stop busy loops
    # on a loaded machine; the wall-clock test passes its own short timeout.
    with SandboxPool(workers=2, cpu_seconds=1, memory_mb=256, timeout_s=30) as p:
        p.start()
        yield p


def assert_healthy(pool: SandboxPool) -> None:
    """The pool still computes correctly, on every worker."""
    import threading

    results: list[object] = []
    barrier = threading.Barrier(pool.workers)

    def go(i: int) -> None:
        barrier.wait()
        results.append(pool.run("import time\ndef f(x):\n    time.sleep(0.05)\n    return x * 2\n", "f", [i]).value)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(pool.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [2 * i for i in range(pool.workers)]
