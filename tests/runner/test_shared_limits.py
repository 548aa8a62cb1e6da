"""Rate limits and a spend ledger shared by every run of a sweep (bench/runner/limits.py).

The sweep tests run against the sim-server over HTTP with a requests-per-minute limit
that the server enforces (429 + retry-after-ms): the shared limiter must keep the
whole sweep under it, whatever the number of workers, the ledger must add up to the
records, and the records must be those of a sweep without any limit. Nothing here
bounds wall time: the checks count requests by the server's own arrival times.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.perf.limits_plot import max_in_window
from undertow.bench.runner import make_config, start
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.executor import make_executor
from undertow.bench.runner.limits import SweepLimits, serve_limits
from undertow.bench.runner.runner import ledger
from undertow.bench.sim.server import running_server
from undertow.engine.llm import BudgetExceeded, Limiter, SpendLedger

from tests.runner.conftest import SMALL, kill_script

RPM, BURST = 600.0, 2.0           # the sweep's limiter: 10 requests a second, 2 at once
SERVER_BURST = BURST + 10         # the server's: same rate, room for requests up to 1 s late in transit


def _comparable(records):
    return [r.model_dump(exclude={"wall_s"}) for r in records]


def _config(url: str, **limits):
    return make_config(["word_sorting"], ["none", "optoprime"], llm=f"openai-compatible:{url}/v1#sim",
                       seeds=1, steps=1, budget="calls=30", workers=2, **SMALL, **limits)


def _last_per_run(records, split="test"):
    return {(r.task, r.optimizer, r.seed): r for r in records if r.split == split}


def _check_ledger(out: Path, records) -> dict:
    book = ledger(out)
    last = _last_per_run(records)
    assert set(book["runs"]) == {f"{t}__{o}__s{s}" for t, o, s in last}
    # the sweep's total is the sum of what each run's records say it spent
    assert book["total"]["train"]["calls"] == sum(r.calls for r in last.values())
    assert book["total"]["train"]["total_tokens"] == sum(r.tokens for r in last.values())
    assert book["total"]["train"]["cost_usd"] == pytest.approx(sum(r.cost_usd for r in last.values()))
    for (t, o, s), rec in last.items():
        run_id = f"{t}__{o}__s{s}"
        entry = book["runs"][run_id]
        assert entry["train"]["calls"] == rec.calls
        # evaluation: the records' eval_calls are counted at the test record; the run's final
        # checkpoint also holds the forward pass that draws its graph, which the ledger books too
        final = json.loads((out / "runs" / run_id / "checkpoint.json").read_text())
        booked = sum(p["calls"] for p in (final["eval_accounting"] or {"by_purpose": {}})["by_purpose"].values())
        assert entry["eval"]["calls"] == booked
        assert rec.eval_calls <= entry["eval"]["calls"] <= rec.eval_calls + 1
    return book


def test_a_sweep_with_two_workers_stays_under_the_servers_rpm_and_its_ledger_adds_up(tmp_path, quiet):
    with running_server(None) as free:  # no limit anywhere: the reference records
        reference = start(_config(free.url), tmp_path / "free", console=quiet,
                          executor=make_executor(1))
    assert reference.failed == {}

    with running_server(None, rpm=RPM, rpm_burst=SERVER_BURST) as srv:
        limited = start(_config(srv.url, rpm=RPM, rpm_burst=BURST), tmp_path / "limited", console=quiet)
        stats, arrivals = srv.stats(), srv.arrivals()
    assert limited.failed == {}
    assert stats["rate_limited"] == 0 and "429" not in stats["by_status"]
    times = sorted(t for t, served in arrivals if served)
    n = len(times)
    assert n == stats["by_path"]["/v1/chat/completions"] > 3 * BURST  # enough for the limit to bind
    # the server saw no more than the limiter grants: BURST at once, then RPM/60 a second
    # (a window's count may exceed it only by requests granted before it began and held up
    # on their way: up to a second of that is allowed on this shared machine)
    rate, late_s = RPM / 60, 1.0
    for window in (0.25, 1.0, 2.0):
        assert max_in_window(times, window) <= BURST + rate * (window + late_s)
    # and the limiter did bind: the requests past the burst were spread at the rate
    assert times[-1] - times[0] >= (n - BURST - 1) / rate - late_s
    # limits change when calls go, never what they answer
    assert _comparable(limited.records) == _comparable(reference.records)
    book = _check_ledger(tmp_path / "limited", limited.records)
    assert book["rpm"] == RPM and book["burst"] == BURST
    # cache hits are booked at their nominal size (bench/runner/metered.py): the ledger counts them too
    assert book["total"]["train"]["calls"] + book["total"]["eval"]["calls"] >= n


def test_without_the_shared_limiter_the_same_sweep_meets_429s(tmp_path, quiet):
    """The control: the server's limit is real, so staying under it is the limiter's doing.
    (At 60 requests a minute the sweep's ~35 calls would have to take half a minute to
    pass; its retries give up, so runs may fail: only the server's count matters here.)"""
    with running_server(None, rpm=60, rpm_burst=SERVER_BURST) as srv:
        out = start(_config(srv.url), tmp_path / "unlimited", console=quiet)
        stats = srv.stats()
    assert stats["rate_limited"] > 0
    # a run whose retries ran out fails on its own, with its error; the pool stays usable
    assert all(e.startswith("RetriesExhaustedError") for e in out.failed.values()), out.failed


def test_an_error_from_traced_code_can_leave_its_worker_process():
    """An LLM call that fails inside traced code raises `ExecutionError`, which holds the
    graph node and through it the client: it cannot be pickled, so a worker process could
    only report the pickling error (CI once saw "TypeError: cannot pickle 'module' object"
    instead of the run's 429). The worker sends the error that stopped the run instead."""
    import pickle

    from undertow.bench.runner.runner import _describe
    from undertow.bench.runner.worker import portable_error
    from undertow.engine.errors import ExecutionError
    from undertow.engine.llm import make_llm
    from undertow.engine.llm.traced import llm_call

    with running_server(None, {"kind": "status", "status": 400}) as srv:
        llm = make_llm(f"openai-compatible:{srv.url}/v1#sim", cache_dir=False)
        with pytest.raises(ExecutionError) as caught:
            llm_call(llm, "Sort these words: b a")
        llm.close()
    with pytest.raises(Exception):  # noqa: B017 - whichever error pickle raises
        pickle.dumps(caught.value)
    sent = pickle.loads(pickle.dumps(portable_error(caught.value)))
    assert _describe(sent).startswith("LLMAPIError: openai-compatible HTTP 400"), _describe(sent)
    assert _describe(portable_error(ValueError("plain"))) == "ValueError: plain"


def test_llm_errors_cross_process_boundaries():
    """A worker reports its run's error by pickling it; one that cannot be unpickled breaks
    the whole process pool (every other run then fails with BrokenProcessPool)."""
    import pickle

    from undertow.engine.llm import (
        LLMAPIError,
        MissingAPIKeyError,
        RetriesExhaustedError,
    )

    errors = [RetriesExhaustedError(LLMAPIError("429", status=429, retryable=True), 4),
              MissingAPIKeyError("openai", "OPENAI_API_KEY"),
              BudgetExceeded("max_calls", 3, None, {"calls": 3, "total_tokens": 5, "cost_usd": 0.0}, {})]
    for exc in errors:
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is type(exc) and str(again) == str(exc)


@pytest.mark.slow
def test_on_ray_the_limiter_is_a_named_actor_and_gives_the_same_results(tmp_path, quiet):
    pytest.importorskip("ray", reason="extra [ray] not installed")
    import ray
    from undertow.bench.runner.executor import make_named_executor

    with running_server(None, rpm=RPM, rpm_burst=SERVER_BURST) as srv:
        local = start(_config(srv.url, rpm=RPM, rpm_burst=BURST), tmp_path / "local", console=quiet)
        srv.reset_stats()
        on_ray = start(_config(srv.url, rpm=RPM, rpm_burst=BURST), tmp_path / "ray", console=quiet,
                       executor=make_named_executor("ray", 2))
        stats = srv.stats()
    assert on_ray.failed == {} and not ray.is_initialized()
    assert stats["rate_limited"] == 0
    assert _comparable(on_ray.records) == _comparable(local.records)
    _check_ledger(tmp_path / "ray", on_ray.records)


def test_a_sweep_budget_stops_the_runs_once_all_of_them_spent_it(tmp_path, quiet):
    config = make_config(["word_sorting"], ["optoprime"], seeds=3, steps=3, budget="calls=50",
                         sweep_budget="calls=12", **SMALL)
    out = start(config, tmp_path / "capped", console=quiet)
    assert out.failed == {}
    book = _check_ledger(tmp_path / "capped", out.records)
    tests = [r for r in out.records if r.split == "test"]
    # one worker: runs go in turn, the first ones spend the sweep's calls, the last stops at once
    assert any(r.stopped == "budget" for r in tests)
    assert book["total"]["train"]["calls"] <= 12 + 16  # at most one batch in flight past the cap
    assert tests[-1].calls == 0
    assert book["sweep_budget"] == {"max_calls": 12}


def test_bad_limits_are_one_line_errors():
    with pytest.raises(BenchError, match="--rpm must be a positive"):
        make_config(["word_sorting"], ["none"], rpm=0)
    with pytest.raises(BenchError, match="--rpm-burst needs --rpm"):
        make_config(["word_sorting"], ["none"], rpm_burst=3)
    with pytest.raises(BenchError, match="--sweep-budget: bad budget part"):
        make_config(["word_sorting"], ["none"], sweep_budget="dollars=3")


# -- the service itself ----------------------------------------------------------------------------
calls = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["train", "eval"]),
                           st.integers(0, 500), st.integers(0, 500),
                           st.floats(0, 1, allow_nan=False)), max_size=40)


@given(calls)
def test_the_ledger_total_is_the_sum_of_its_runs(booked):
    service = SweepLimits()
    for run, side, p, c, usd in booked:
        service.book(run, side, p, c, usd)
    snap = service.snapshot()
    for side in ("train", "eval"):
        mine = [b for b in booked if b[1] == side]
        assert snap["total"][side]["calls"] == len(mine)
        assert snap["total"][side]["total_tokens"] == sum(b[2] + b[3] for b in mine)
        assert snap["total"][side]["cost_usd"] == pytest.approx(sum(b[4] for b in mine))
        assert snap["total"][side]["calls"] == sum(e[side]["calls"] for e in snap["runs"].values())


def test_reopening_a_run_restarts_its_entry_from_its_checkpoint_and_a_saved_ledger_continues():
    service = SweepLimits()
    service.book("r1", "train", 10, 5, 0.0)
    service.book("r1", "train", 10, 5, 0.0)  # a step the run redoes after a crash
    service.open_run("r1", {"train": {"calls": 1, "prompt_tokens": 10, "completion_tokens": 5}})
    assert service.snapshot()["runs"]["r1"]["train"]["calls"] == 1
    again = SweepLimits(ledger=service.snapshot()["runs"])
    again.book("r2", "eval", 1, 1, 0.0)
    assert again.snapshot()["total"]["train"]["calls"] == 1
    assert again.snapshot()["total"]["eval"]["calls"] == 1


def test_the_adapters_fit_the_engine_protocols_and_the_sweep_cap_refuses():
    from undertow.bench.runner.limits import RunLedger, SharedLimiter
    from undertow.engine.llm import Usage

    service = SweepLimits(rpm=60, burst=2, sweep_budget={"max_calls": 2}, clock=_frozen)
    limiter, train = SharedLimiter(service, "k", tokens=False), RunLedger(service, "r", "train", capped=True)
    assert isinstance(limiter, Limiter) and isinstance(train, SpendLedger)
    assert limiter.reserve(5) == 0.0 and limiter.reserve(5) == 0.0
    assert limiter.reserve(5) == pytest.approx(1.0)  # the third waits for the refill
    assert SharedLimiter(service, "other", tokens=False).reserve() == 0.0  # one bucket per provider key
    for _ in range(2):
        train.admit("forward")
        train.book("forward", Usage(prompt_tokens=3, completion_tokens=1), 0.0)
    RunLedger(service, "r", "eval", capped=True).admit("forward")  # evaluation is not capped
    with pytest.raises(BudgetExceeded, match="sweep max_calls"):
        train.admit("optimizer")


def test_the_manager_process_serves_one_service_to_every_worker_process(tmp_path):
    """Processes of a pool see one ledger and one limiter through the manager's proxies."""
    pool = make_executor(2)
    try:
        with serve_limits(pool, tmp_path, rpm=600, burst=1, clock=_frozen) as (handle, service):
            waits = list(pool.map(_reserve_and_book, [handle] * 6))
            snap = service.snapshot()
    finally:
        pool.shutdown()
    assert snap["total"]["train"]["calls"] == 6
    # one bucket for all: 1 at once then 10 a second, so the 6 grants wait 0, 0.1, ..., 0.5 s
    assert sorted(round(w, 6) for w in waits) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]


def _frozen() -> float:
    """A clock that never moves: the limiter's answers depend only on the reservations."""
    return 0.0


def _reserve_and_book(handle) -> float:
    service = handle.connect()
    wait = service.reserve("openai|x|m", 0)
    service.book("run", "train", 1, 1, 0.0)
    return wait


def test_the_sim_server_refuses_past_its_rpm_with_retry_after():
    import http.client
    import json

    with running_server(None, rpm=60, rpm_burst=2) as srv:
        host, port = srv.url.removeprefix("http://").rsplit(":", 1)
        got = []
        for _ in range(4):
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.request("POST", "/v1/chat/completions", headers={"Content-Type": "application/json"},
                         body=json.dumps({"model": "sim", "messages": [{"role": "user", "content": "hi"}]}))
            resp = conn.getresponse()
            resp.read()
            got.append((resp.status, resp.getheader("retry-after-ms")))
            conn.close()
        stats, arrivals = srv.stats(), srv.arrivals()
    assert [s for s, _ in got] == [200, 200, 429, 429]
    assert all(0 < int(ms) <= 1000 for _, ms in got[2:])
    assert stats["rate_limited"] == 2 and stats["by_status"]["429"] == 2
    assert [ok for _, ok in arrivals] == [True, True, False, False]


def test_tokens_per_minute_are_shared_and_settled_with_the_real_count():
    service = SweepLimits(tpm=600, clock=_frozen)  # 10 tokens a second, a minute's worth at once
    assert service.reserve("k", 500) == 0.0
    assert service.reserve("k", 200) == pytest.approx(10.0)  # 100 tokens in debt
    service.settle("k", 200, 50)  # the reply was smaller than reserved: 150 back
    assert service.reserve("k", 0) == 0.0 and service.reserve("k", 60) == pytest.approx(1.0)
    assert SweepLimits(clock=_frozen).reserve("k", 10**9) == 0.0  # no limit set


def test_a_limiter_shared_by_threads_grants_in_order():
    service = SweepLimits(rpm=120, burst=1, clock=_frozen)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        w = service.reserve("k")
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=take) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w, 6) for w in waits) == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_the_run_file_takes_the_limits(tmp_path):
    from undertow.bench.runner.runfile import load_run_file

    path = tmp_path / "sweep.toml"
    path.write_text('rpm = 600\ntpm = 90000\nrpm-burst = 4\nsweep_budget = "usd=5"\n')
    assert load_run_file(path) == {"rpm": 600, "tpm": 90000, "rpm_burst": 4, "sweep_budget": "usd=5"}
    path.write_text("rpm = -1\n")
    with pytest.raises(BenchError, match="bad value for 'rpm'"):
        load_run_file(path)


def test_bench_run_cli_passes_the_limits_to_the_sweep(tmp_path):
    from typer.testing import CliRunner
    from undertow.bench.cli import app
    from undertow.bench.runner.config import load_config

    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["bench", "run", "--task", "numeric_dag", "--optimizer", "none", "--steps", "1",
                                      "--rpm", "6000", "--tpm", "100000", "--sweep-budget", "calls=50",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = load_config(out)
    assert (config.rpm, config.tpm, config.sweep_budget) == (6000, 100000, "calls=50")
    assert ledger(out)["rpm"] == 6000
    bad = CliRunner().invoke(app, ["bench", "run", "--task", "numeric_dag", "--optimizer", "none",
                                   "--rpm-burst", "3", "--out", str(tmp_path / "bad")])
    assert bad.exit_code != 0 and "--rpm-burst needs --rpm" in bad.output


KILLER = kill_script("word_sorting__optoprime__s1", 2, 2, """
    config = make_config(["word_sorting"], ["optoprime"], seeds=2, steps=3, budget="calls=60",
                         n_train=8, n_val=6, n_test=6, batch_size=2)
""")


def test_a_sweep_killed_mid_step_and_resumed_has_a_ledger_equal_to_its_records(tmp_path, quiet):
    """SIGKILL: no ledger.json is written; the resume rebuilds the entries of the runs done from
    their checkpoints, and the killed run's from its last one (its redone calls count once)."""
    import subprocess
    import sys

    from undertow.bench.runner import resume

    out = tmp_path / "killed"
    done = subprocess.run([sys.executable, "-c", KILLER, str(out)], capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    assert not (out / "ledger.json").exists()
    again = resume(out, console=quiet)
    assert again.failed == {}
    _check_ledger(out, again.records)


@given(st.lists(st.floats(0, 0.5, allow_nan=False), min_size=1, max_size=80),
       st.floats(30, 6000), st.floats(1, 20))
def test_the_servers_bucket_never_admits_more_than_burst_plus_rate_in_any_window(gaps, rpm, burst):
    """Whatever the arrival pattern, the server's rpm limit lets through at most
    `burst + rate * span` requests in any span, and every refusal names a positive wait."""
    from itertools import accumulate

    from undertow.bench.sim.server.faults import RequestBucket

    times = list(accumulate(gaps))
    bucket = RequestBucket(rpm, burst, now=0.0)
    admitted = []
    for t in times:
        wait = bucket.admit(t)
        assert wait >= 0.0
        if wait == 0.0:
            admitted.append(t)
    rate = rpm / 60
    for i in range(len(admitted)):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= burst + rate * (admitted[j] - admitted[i]) + 1e-9


def test_without_limits_a_pool_sweep_starts_no_service_and_its_ledger_still_adds_up(tmp_path, quiet):
    """No --rpm/--tpm/--sweep-budget: the runs get no shared handle (no service process, no
    round trip per call), and the ledger is rebuilt from their checkpoints at the end."""
    pool = make_executor(2)
    with serve_limits(pool, tmp_path) as (handle, _):
        assert handle is None
    pool.shutdown()
    config = make_config(["word_sorting"], ["none", "optoprime"], seeds=1, steps=1, budget="calls=30",
                         workers=2, **SMALL)
    out = start(config, tmp_path / "plain", console=quiet)
    assert out.failed == {}
    book = _check_ledger(tmp_path / "plain", out.records)
    assert book["total"]["train"]["calls"] > 0


def test_a_hold_reaches_every_worker_through_the_manager(tmp_path):
    """One worker's `hold` (a provider's retry-after) makes the other workers' grants wait."""
    from undertow.bench.runner.limits import SharedLimiter

    pool = make_executor(2)
    try:
        with serve_limits(pool, tmp_path, rpm=600, burst=1, clock=_frozen) as (handle, service):
            SharedLimiter(handle.connect(), "openai|x|m", tokens=False).hold(30.0)
            waits = list(pool.map(_reserve_and_book, [handle] * 2))
    finally:
        pool.shutdown()
    assert min(waits) >= 30.0


def test_a_hold_binds_even_without_rate_limits():
    service = SweepLimits()
    assert service.reserve("k", 0) == 0.0
    service.hold("k", 30.0)
    assert service.reserve("k", 0) > 25.0 and service.reserve("other", 0) == 0.0
