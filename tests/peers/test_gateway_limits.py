"""The peer gateway under a sweep's shared limits (bench/runner/limits.py).

A real OpenAI SDK client (`max_retries=0` unless a test is about retries) hits the
gateway from several threads; the gateway forwards to a sim-server that enforces its
own requests-per-minute limit (429 + retry-after-ms past it), as a provider would.
Checks count at the server (its stats and arrival times) and in the ledger: no
wall-clock ceilings.
"""

from __future__ import annotations

import json
import threading
import urllib.request

import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.peers.gateway import Meter, Upstream, serve
from undertow.bench.perf.limits_plot import max_in_window
from undertow.bench.runner.limits import RunLedger, SharedLimiter, SweepLimits, limits_key
from undertow.bench.sim.server import running_server

from ..runner.conftest import SMALL, quiet  # noqa: F401 - the fixture
from .conftest import need

ASK = [{"role": "user", "content": "Sort these words: pear apple fig"}]
COMPLETIONS = "/v1/chat/completions"
RPM, BURST = 600.0, 2.0      # the sweep's limiter: 10 requests a second, 2 at once
SERVER_BURST = BURST + 10    # the server's: same rate, room for requests up to 1 s late in transit


class CountingLimiter(SharedLimiter):
    """The sweep's limiter adapter, counting the grants it passes on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.grants = 0
        self._lock = threading.Lock()

    def reserve(self, tokens: int = 0) -> float:
        with self._lock:
            self.grants += 1
        return super().reserve(tokens)


def _limits(srv, service: SweepLimits, run_id: str = "peer-run", capped: bool = False):
    key = limits_key("openai-compatible", srv.openai_base_url, "sim")  # what build_llms would use
    return (CountingLimiter(service, key, tokens=bool(service.tpm)),
            RunLedger(service, run_id, "train", capped=capped))


def _client(gw, retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="anything", max_retries=retries)


def _hammer(gw, threads: int, each: int) -> list[str]:
    """`threads` SDK clients sending `each` requests in turn; what each request got."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(t: int) -> None:
        client = _client(gw)
        for i in range(each):
            try:
                client.chat.completions.create(model="gpt-x", messages=[
                    {"role": "user", "content": f"Sort these words: w{t}x{i} apple pear"}])
                got = "ok"
            except openai.RateLimitError:
                got = "429"
            except openai.BadRequestError as exc:
                got = "refused" if "undertow_budget_spent" in str(exc) else f"400: {exc}"
            with lock:
                outcomes.append(got)

    workers = [threading.Thread(target=one, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return outcomes


def _budget(gw) -> dict:
    with urllib.request.urlopen(gw.url + "/_undertow/budget") as resp:
        return json.loads(resp.read())


def test_threads_through_a_limited_gateway_stay_under_the_servers_rpm_and_the_ledger_adds_up():
    service = SweepLimits(rpm=RPM, burst=BURST)
    with running_server(None, rpm=RPM, rpm_burst=SERVER_BURST) as srv:
        limiter, ledger = _limits(srv, service)
        meter = Meter()
        with serve(Upstream(srv.openai_base_url, "sim"), meter, limiter=limiter, ledger=ledger) as gw:
            outcomes = _hammer(gw, threads=4, each=5)
            counted = _budget(gw)
        stats, arrivals = srv.stats(), srv.arrivals()
    assert outcomes == ["ok"] * 20
    assert stats["rate_limited"] == 0 and "429" not in stats["by_status"]
    # every request the server saw was granted by the sweep's limiter, and no more
    assert stats["by_path"][COMPLETIONS] == limiter.grants == meter.calls == 20
    times = sorted(t for t, served in arrivals if served)
    rate, late_s = RPM / 60, 1.0
    for window in (0.25, 1.0, 2.0):
        assert max_in_window(times, window) <= BURST + rate * (window + late_s)
    assert times[-1] - times[0] >= (len(times) - BURST - 1) / rate - late_s  # the limiter did bind
    # the ledger booked each reply as it came: it equals the gateway's own counters
    entry = service.snapshot()["runs"]["peer-run"]["train"]
    assert entry["calls"] == counted["calls"] == 20
    assert entry["prompt_tokens"] + entry["completion_tokens"] == counted["tokens"] > 0
    assert entry["prompt_tokens"] == counted["prompt_tokens"]
    assert counted["spent"] is False and counted["sweep_stop"] == ""


def test_the_same_load_without_the_limiter_meets_the_servers_429s():
    """The control: the server's limit is real, so staying under it is the limiter's doing."""
    with running_server(None, rpm=60, rpm_burst=BURST) as srv:
        meter = Meter()
        with serve(Upstream(srv.openai_base_url, "sim"), meter) as gw:
            outcomes = _hammer(gw, threads=4, each=2)
        stats = srv.stats()
    assert stats["rate_limited"] > 0 and outcomes.count("429") == stats["rate_limited"]
    assert meter.errors == stats["rate_limited"]


def test_a_sweep_budget_stops_the_gateway_with_the_budget_refusal():
    service = SweepLimits(sweep_budget={"max_calls": 6})
    service.book("other-run", "train", 10, 5, 0.0)  # an undertow run of the sweep spent 2 calls
    service.book("other-run", "train", 10, 5, 0.0)
    with running_server(None) as srv:
        limiter, ledger = _limits(srv, service, capped=True)
        meter = Meter(max_calls=100)  # the run's own budget is far away
        with serve(Upstream(srv.openai_base_url, "sim"), meter, limiter=limiter, ledger=ledger) as gw:
            assert _budget(gw)["spent"] is False
            outcomes = _hammer(gw, threads=3, each=3)
            counted = _budget(gw)
            with pytest.raises(openai.BadRequestError, match="sweep's LLM budget is used up"):
                _client(gw).chat.completions.create(model="x", messages=ASK)
        sent = srv.stats()["by_path"][COMPLETIONS]
    snap = service.snapshot()
    ok = outcomes.count("ok")
    # the cap counts every run: 2 calls before, so the peer got at most 4 (plus what was in
    # flight when the 6th landed: each thread holds at most one request)
    assert 4 <= ok <= 4 + 2 and outcomes.count("refused") == 9 - ok
    assert counted["spent"] is True and "sweep max_calls" in counted["sweep_stop"]
    assert meter.refused == 9 - ok + 1 and sent == ok == meter.calls
    assert snap["runs"]["peer-run"]["train"]["calls"] == ok
    assert snap["total"]["train"]["calls"] == 2 + ok


def test_a_sweep_budget_spent_by_other_runs_says_spent_before_the_peer_asks():
    """The drivers stop on `/_undertow/budget` saying `spent`: a sweep budget that other
    runs used up stops a peer before its first request."""
    service = SweepLimits(sweep_budget={"max_tokens": 10})
    service.book("other-run", "train", 8, 4, 0.0)
    with running_server(None) as srv:
        limiter, ledger = _limits(srv, service, capped=True)
        with serve(Upstream(srv.openai_base_url, "sim"), Meter(), limiter=limiter, ledger=ledger) as gw:
            counted = _budget(gw)
        sent = srv.stats()["by_path"].get(COMPLETIONS, 0)
    assert counted["spent"] is True and "sweep max_tokens" in counted["sweep_stop"]
    assert sent == 0 and limiter.grants == 0


def test_each_sdk_retry_after_an_upstream_429_is_granted_and_booked():
    """The gateway passes the provider's 429 on with its retry-after-ms header; the peer's
    SDK retries, and each retry is a new request that waits for its own grant. Every
    forwarded call is counted by the run's meter and by the ledger alike."""
    service = SweepLimits(rpm=RPM, burst=BURST)
    with running_server(None, {"kind": "status", "status": 429, "times": 2, "retry_after_ms": 10}) as srv:
        limiter, ledger = _limits(srv, service)
        meter = Meter()
        with serve(Upstream(srv.openai_base_url, "sim"), meter, limiter=limiter, ledger=ledger) as gw:
            raw = _client(gw, retries=2).chat.completions.with_raw_response.create(model="x", messages=ASK)
        sent = srv.stats()["by_path"][COMPLETIONS]
    assert raw.retries_taken == 2
    assert sent == limiter.grants == meter.calls == 3 and meter.errors == 2
    entry = service.snapshot()["runs"]["peer-run"]["train"]
    assert entry["calls"] == 3 and entry["prompt_tokens"] + entry["completion_tokens"] == meter.tokens


def test_an_upstream_429_reaches_the_peer_with_its_retry_after():
    with running_server(None, {"kind": "status", "status": 429, "times": 1, "retry_after_ms": 1234}) as srv:
        with serve(Upstream(srv.openai_base_url, "sim"), Meter()) as gw:
            with pytest.raises(openai.RateLimitError) as caught:
                _client(gw).chat.completions.create(model="x", messages=ASK)
    assert caught.value.response.headers.get("retry-after-ms") == "1234"


counts = st.one_of(st.none(), st.integers(-5, 10_000), st.floats(), st.booleans(), st.text(max_size=3))
usages = st.one_of(st.none(), st.text(max_size=3), st.fixed_dictionaries({}, optional={
    "prompt_tokens": counts, "completion_tokens": counts, "total_tokens": counts}))


@given(st.lists(st.tuples(usages, st.integers(1, 500)), max_size=20),
       st.tuples(st.floats(0, 100), st.floats(0, 100)))
def test_what_the_meter_books_is_what_it_returns_for_the_ledger(replies, price):
    """Whatever usage a server reports (or omits, or garbles), the (prompt, completion,
    dollars) the meter returns for the ledger add up to its own counters, and a reply
    counts at least one token."""
    meter = Meter(price=price)
    prompt = completion = 0
    usd = 0.0
    for usage, fallback in replies:
        p, c, d = meter.book(usage, fallback)
        assert p >= 0 and c >= 0 and p + c >= 1 and d >= 0
        prompt, completion, usd = prompt + p, completion + c, usd + d
    assert prompt == meter.prompt_tokens and prompt + completion == meter.tokens
    assert usd == pytest.approx(meter.usd)


# -- whole sweeps: a peer optimizer and an undertow optimizer under one limit ----------------------
def _peer_sweep_ledger(out, records):
    """The sweep's ledger equals its records, run by run (a peer's train spend is what its
    gateway counted, booked call by call while it ran)."""
    from undertow.bench.runner.runner import ledger

    book = ledger(out)
    tests = {r.optimizer: r for r in records if r.split == "test"}
    for optimizer, rec in tests.items():
        run_id = f"{rec.task}__{optimizer}__s{rec.seed}"
        entry = book["runs"][run_id]["train"]
        assert entry["calls"] == rec.calls
        assert entry["prompt_tokens"] + entry["completion_tokens"] == rec.tokens
        summary = out / "runs" / run_id / "peer" / "summary.json"
        if summary.is_file():  # the peer's prompt/completion split, as its gateway counted it
            assert entry["prompt_tokens"] == json.loads(summary.read_text())["spent"]["prompt_tokens"]
    assert book["total"]["train"]["calls"] == sum(r.calls for r in tests.values())
    return book, tests


@pytest.mark.slow
def test_a_sweep_of_a_peer_and_an_undertow_optimizer_shares_one_rate_limit(tmp_path, quiet):
    """trace:optoprime (through its gateway) and optoprime (our clients) run at once in two
    worker processes against one server limit: the server never refuses, and its arrival
    times show no window with more requests than the one shared limiter grants."""
    from undertow.bench.runner import make_config, start

    need("trace-opt")
    with running_server(None, rpm=RPM, rpm_burst=SERVER_BURST) as srv:
        config = make_config(["boolean_expressions"], ["trace:optoprime", "optoprime"],
                             llm=f"openai-compatible:{srv.openai_base_url}#sim", seeds=1, steps=1,
                             budget="calls=30", workers=2, rpm=RPM, rpm_burst=BURST, **SMALL)
        out = start(config, tmp_path / "sweep", console=quiet)
        stats, arrivals = srv.stats(), srv.arrivals()
    assert out.failed == {}
    assert stats["rate_limited"] == 0
    times = sorted(t for t, served in arrivals if served)
    rate, late_s = RPM / 60, 1.0
    for window in (0.25, 1.0, 2.0):
        assert max_in_window(times, window) <= BURST + rate * (window + late_s)
    book, tests = _peer_sweep_ledger(tmp_path / "sweep", out.records)
    peer = json.loads((tmp_path / "sweep" / "runs" / "boolean_expressions__trace:optoprime__s0" / "peer"
                       / "summary.json").read_text())
    assert tests["trace:optoprime"].calls == peer["spent"]["calls"] > 0 and tests["optoprime"].calls > 0


@pytest.mark.slow
def test_on_ray_the_peers_gateway_reaches_the_limits_actor(tmp_path, quiet):
    """Under --executor ray the gateway runs in a Ray task and calls the sweep's named actor
    from its request threads: the same limit, no 429, a ledger equal to the records."""
    pytest.importorskip("ray", reason="extra [ray] not installed")
    from undertow.bench.runner import make_config, start
    from undertow.bench.runner.executor import make_named_executor

    need("trace-opt")
    with running_server(None, rpm=RPM, rpm_burst=SERVER_BURST) as srv:
        config = make_config(["boolean_expressions"], ["trace:optoprime", "optoprime"],
                             llm=f"openai-compatible:{srv.openai_base_url}#sim", seeds=1, steps=1,
                             budget="calls=30", workers=2, rpm=RPM, rpm_burst=BURST, **SMALL)
        out = start(config, tmp_path / "ray", console=quiet, executor=make_named_executor("ray", 2))
        stats = srv.stats()
    assert out.failed == {} and stats["rate_limited"] == 0
    _, tests = _peer_sweep_ledger(tmp_path / "ray", out.records)
    assert tests["trace:optoprime"].calls > 0


@pytest.mark.slow
def test_a_pool_sweep_without_limits_rebuilds_the_peers_ledger_entry_from_its_counters(tmp_path, quiet):
    """No --rpm/--tpm/--sweep-budget on worker processes: no service, the gateway gets
    nothing, and the ledger is rebuilt from the runs' checkpoints and the peer's summary."""
    from undertow.bench.runner import make_config, start

    need("trace-opt")
    config = make_config(["boolean_expressions"], ["trace:optoprime", "optoprime"], llm="sim", seeds=1,
                         steps=1, budget="calls=30", workers=2, **SMALL)
    out = start(config, tmp_path / "plain", console=quiet)
    assert out.failed == {}
    _, tests = _peer_sweep_ledger(tmp_path / "plain", out.records)
    assert tests["trace:optoprime"].calls > 0


@pytest.mark.slow
def test_a_sweep_budget_stops_the_peer_run_at_the_sweeps_total(tmp_path, quiet):
    """One worker: optoprime runs first and spends 9 of the sweep's 14 calls (3 steps); the peer
    run after it needs 9 too, but its own calls are booked in the sweep's ledger as they go,
    so the gateway refuses once the sweep's total reaches 14 and the peer ends `budget`."""
    from undertow.bench.runner import make_config, start

    need("trace-opt")
    cap = 14
    config = make_config(["boolean_expressions"], ["optoprime", "trace:optoprime"], llm="sim", seeds=1,
                         steps=3, budget="calls=40", sweep_budget=f"calls={cap}", **SMALL)
    out = start(config, tmp_path / "capped", console=quiet)
    assert out.failed == {}
    book, tests = _peer_sweep_ledger(tmp_path / "capped", out.records)
    ours, peer = tests["optoprime"], tests["trace:optoprime"]
    assert ours.stopped == "steps" and ours.calls < cap
    assert peer.stopped == "budget"
    summary = json.loads((tmp_path / "capped" / "runs" / "boolean_expressions__trace:optoprime__s0" / "peer"
                          / "summary.json").read_text())
    assert "sweep max_calls" in summary["spent"]["sweep_stop"] and summary["spent"]["refused"] >= 1
    # the peer sends one request at a time: the sweep passes its cap by at most that one
    assert 2 <= peer.calls <= cap - ours.calls + 1
    assert cap <= book["total"]["train"]["calls"] <= cap + 1


@given(st.lists(st.floats(0, 100, allow_nan=False), max_size=40), st.floats(0, 5, allow_nan=False))
def test_max_in_window_counts_the_fullest_span(times, window):
    """The evidence's "most requests in any 1 s" against a brute-force count."""
    times = sorted(times)
    brute = max((sum(1 for u in times if t <= u and u - t <= window) for t in times), default=0)
    assert max_in_window(times, window) == brute


def test_an_upstream_retry_after_holds_the_sweeps_limiter():
    """A 429 with retry-after that the gateway passes back to the peer also holds the
    sweep's limiter: undertow's own runs and other peers wait it out instead of sending."""
    service = SweepLimits()
    with running_server(None, {"kind": "status", "status": 429, "times": 1, "retry_after_ms": 30_000}) as srv:
        limiter, ledger = _limits(srv, service)
        with serve(Upstream(srv.openai_base_url, "sim"), Meter(), limiter=limiter, ledger=ledger) as gw:
            with pytest.raises(openai.RateLimitError):
                _client(gw).chat.completions.create(model="gpt-x", messages=ASK)
    assert limiter.reserve() > 25.0
