"""Pool behaviour: restarts, threads, asyncio, data checks, environment, closing."""

from __future__ import annotations

import asyncio
import threading

import pytest
from undertow.engine.sandbox import (
    Limits,
    SandboxClosedError,
    SandboxDataError,
    SandboxError,
    SandboxPool,
    sandboxed,
)

from .conftest import DOUBLE, assert_healthy


def test_a_crashing_call_leaves_its_worker_running(pool):
    before = set(pool.worker_pids())
    restarts = pool.restarts
    res = pool.run("import os\ndef f():\n    os._exit(7)\n", "f", [])
    assert res.error is not None and res.error.kind == "crash" and res.worker_pid in before
    assert "exited with code 7" in res.error.message
    assert pool.restarts == restarts and set(pool.worker_pids()) == before
    assert_healthy(pool)


def test_a_dead_worker_is_replaced(pool):
    before = set(pool.worker_pids())
    restarts = pool.restarts
    # The call kills its own worker (its parent): the result is a crash, the slot gets a new worker.
    res = pool.run("import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                   "    import time; time.sleep(5)\n", "f", [])
    assert res.error is not None and res.error.kind == "crash"
    assert pool.restarts == restarts + 1
    after = set(pool.worker_pids())
    assert res.worker_pid not in after and len(after - before) == 1
    assert_healthy(pool)


def test_concurrent_runs_from_threads(pool):
    source = "def f(i, n):\n    return [i, sum(range(n))]\n"
    results: dict[int, object] = {}

    def go(i: int) -> None:
        results[i] = pool.run(source, "f", [i], {"n": 1000 + i}).unwrap()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: [i, sum(range(1000 + i))] for i in range(12)}


def test_async_twin(pool):
    async def main() -> list[object]:
        runs = [pool.arun(DOUBLE, "double", [i]) for i in range(6)]
        return [r.value for r in await asyncio.gather(*runs)]

    assert asyncio.run(main()) == [0, 2, 4, 6, 8, 10]


def test_output_exceptions_and_preamble(pool):
    res = pool.run("def f(x):\n    print('seen', x)\n    return helper(x)\n", "f", [2],
                   preamble="def helper(v):\n    return v + 1\n")
    assert res.ok and res.value == 3 and res.stdout == "seen 2\n"
    res = pool.run("def f(d):\n    return d['missing']\n", "f", [{"a": 1}])
    assert res.error is not None and res.error.type == "KeyError" and res.error.lineno == 2
    assert "return d['missing']" in res.error.traceback
    res = pool.run("def f():\n    raise SystemExit(2)\n", "f", [])
    assert res.error is not None and res.error.type == "SystemExit"   # the worker survives it
    res = pool.run(DOUBLE, "triple", [1])
    assert res.error is not None and "no function named 'triple'" in res.error.message


def test_arguments_and_results_must_be_plain_data(pool):
    with pytest.raises(SandboxDataError, match=r"args\[0\]\['k'\]\[1\] is an object"):
        pool.run(DOUBLE, "double", [{"k": [1, object()]}])
    with pytest.raises(SandboxDataError, match="args must be a list or tuple"):
        pool.run(DOUBLE, "double", "ab")
    with pytest.raises(SandboxDataError, match="not a Python identifier"):
        pool.run(DOUBLE, "double x", [])
    res = pool.run("import collections\ndef f():\n    return [collections.Counter('ab')]\n", "f", [])
    assert res.error is not None and res.error.kind == "result"
    assert "the result[0] is a collections.Counter" in res.error.message


def test_workers_do_not_inherit_the_parents_secrets(monkeypatch):
    monkeypatch.setenv("UNDERTOW_TEST_SECRET", "hunter2")
    with SandboxPool(workers=1, env={"GIVEN": "yes"}) as p:
        env = p.run("import os\ndef f():\n    return dict(os.environ)\n", "f", []).unwrap()
    assert "UNDERTOW_TEST_SECRET" not in env and env["GIVEN"] == "yes"


def test_closed_pool_refuses_calls():
    p = SandboxPool(workers=1)
    assert p.run(DOUBLE, "double", [4]).value == 8
    (pid,) = p.worker_pids()
    p.close()
    p.close()   # idempotent
    with pytest.raises(SandboxClosedError, match="closed"):
        p.run(DOUBLE, "double", [1])
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        import os
        os.kill(pid, 0)


def test_sandboxed_callable(pool):
    double = sandboxed("double", DOUBLE, pool)
    assert double(21) == 42 and double.__name__ == "double"
    failing = sandboxed("f", "def f(x):\n    return 1 / x\n", pool)
    with pytest.raises(SandboxError) as info:
        failing(0)
    assert info.value.location == ("<sandbox f>", 2, "return 1 / x")
    adouble = sandboxed("g", "async def g(x):\n    return x * 2\n", pool)
    assert asyncio.run(adouble(5)) == 10


@pytest.mark.parametrize("bad", [{"workers": 0}, {"cpu_seconds": 0}, {"memory_mb": 8}, {"timeout_s": "5"},
                                 {"isolation": "off"}, {"procs": 0}])
def test_bad_settings_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        SandboxPool(**bad)


def test_limits_validate():
    assert Limits().timeout_s == 10.0
    with pytest.raises(ValueError, match="not a number"):
        Limits(cpu_seconds=float("nan"))


def test_guarded_socket_is_still_a_class_and_asyncio_works(pool):
    source = ("import asyncio, socket\n"
              "class Mine(socket.socket):\n    pass\n"
              "async def f(x):\n    await asyncio.sleep(0)\n    try:\n        Mine()\n"
              "    except PermissionError as e:\n        return [x, str(e)[:40]]\n")
    res = pool.run(source, "f", [1])
    assert res.ok and res.value == [1, "network access is disabled in the undert"]


def test_benchmark_reports_every_available_level_beside_the_old_pool():
    from undertow.bench.perf import sandbox as perf
    from undertow.engine.sandbox import available

    out = perf.run(quick=True)
    assert set(out["levels"]) == {lvl for lvl, why in available().items() if why is None}
    assert out["old_pool_run_us"] > out["direct_call_us"] > 0
    for figures in out["levels"].values():
        assert figures["run_us"] > 0 and len(figures["run_us_all"]) == out["repeats"]


def test_isolation_level_is_the_strongest_available_and_reported():
    from undertow.engine.sandbox import LEVELS, available, choose

    reasons = available()
    assert reasons["rlimits"] is None  # always there
    strongest = next(level for level in LEVELS if reasons[level] is None)
    assert choose("auto").level == strongest
    with SandboxPool(workers=1, isolation="rlimits") as p:
        assert p.level == "rlimits" and "isolation=rlimits" in repr(p)
        assert p.run(DOUBLE, "double", [2]).value == 4
    for level, why in reasons.items():
        if why is not None:
            with pytest.raises(RuntimeError, match=f"isolation='{level}' is not available here"):
                SandboxPool(isolation=level)
    with pytest.raises(ValueError, match="isolation='off' is not one of"):
        choose("off")


PRELOADED = "def f():\n    import sys\n    return 'colorsys' in sys.modules\n"


@pytest.mark.parametrize("preload, expected", [(("colorsys",), True), ((), False)])
def test_preloaded_modules_are_in_every_call_without_an_import(preload, expected):
    """`preload` modules are imported once by the worker, so each call's child has them."""
    with SandboxPool(workers=1, preload=preload) as own:
        assert [own.run(PRELOADED, "f").value for _ in range(2)] == [expected, expected]
