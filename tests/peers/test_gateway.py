"""The counting gateway: every call booked, the budget refused past its cap (also under
concurrency), the model rewritten, exchanges logged, feedback routed to undertow."""

from __future__ import annotations

import json
import threading

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.peers.gateway import Meter, Upstream, serve
from undertow.bench.sim.server import running_server

ASK = [{"role": "user", "content": "What is 2 + 3? End with 'Answer: N'."}]


@pytest.fixture(scope="module")
def sim_url():
    with running_server() as srv:
        yield srv.openai_base_url


def _client(gw) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="anything", max_retries=0)


def test_calls_and_tokens_are_booked_and_logged(sim_url, tmp_path):
    log = tmp_path / "requests.jsonl"
    with serve(Upstream(sim_url, "sim"), Meter(), log_path=log) as gw:
        reply = _client(gw).chat.completions.create(model="gpt-4o", messages=ASK)
        counted = json.loads(__import__("urllib.request").request.urlopen(gw.url + "/_undertow/budget").read())
    assert reply.model == "gpt-4o"               # the peer sees the model it named
    assert counted["calls"] == 1 and counted["tokens"] == reply.usage.total_tokens > 0
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["messages"] == ASK and entry["reply"] == reply.choices[0].message.content


@settings(max_examples=8, deadline=None)
@given(cap=st.integers(1, 6), asked=st.integers(0, 10))
def test_parallel_requests_never_pass_the_call_cap(sim_url, cap, asked):
    meter = Meter(max_calls=cap)
    outcomes: list[str] = []
    with serve(Upstream(sim_url, "sim"), meter) as gw:
        client = _client(gw)

        def one() -> None:
            try:
                client.chat.completions.create(model="x", messages=ASK)
                outcomes.append("ok")
            except openai.BadRequestError as exc:
                assert "undertow_budget_spent" in str(exc)
                outcomes.append("refused")

        threads = [threading.Thread(target=one) for _ in range(asked)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert outcomes.count("ok") == min(cap, asked) == meter.calls
    assert outcomes.count("refused") == max(0, asked - cap) == meter.refused


def test_token_cap_stops_after_the_call_that_reaches_it(sim_url):
    meter = Meter(max_tokens=1)
    with serve(Upstream(sim_url, "sim"), meter) as gw:
        client = _client(gw)
        client.chat.completions.create(model="x", messages=ASK)
        with pytest.raises(openai.BadRequestError, match="undertow_budget_spent"):
            client.chat.completions.create(model="x", messages=ASK)
    assert meter.calls == 1 and meter.spent()


def test_dollar_cap_stops_after_the_call_that_reaches_it(sim_url):
    # a price per million tokens as a paid model's: each call costs its tokens at that rate
    meter = Meter(max_usd=1e-9, price=(3.0, 15.0))
    with serve(Upstream(sim_url, "sim"), meter) as gw:
        client = _client(gw)
        reply = client.chat.completions.create(model="x", messages=ASK)
        with pytest.raises(openai.BadRequestError, match="undertow_budget_spent"):
            client.chat.completions.create(model="x", messages=ASK)
    u = reply.usage
    assert meter.calls == 1 and meter.spent()
    assert meter.usd == pytest.approx((u.prompt_tokens * 3.0 + u.completion_tokens * 15.0) / 1e6)


def test_a_dollar_budget_needs_a_known_price():
    from undertow.bench.peers.run import usd_price
    from undertow.bench.runner.errors import BenchError

    assert usd_price("sim", "sim") == (0.0, 0.0)
    with pytest.raises(BenchError, match="needs the price of 'no-such-model-xyz'"):
        usd_price("openai:no-such-model-xyz", "no-such-model-xyz")


def test_feedback_route_calls_undertow_and_rejects_bad_requests(sim_url):
    import urllib.error
    import urllib.request

    seen = []

    def feedback(split: str, index: int, output: str) -> tuple[float, str]:
        seen.append((split, index, output))
        if index > 0:
            raise IndexError("no such item")
        return 1.0, "Correct"

    def post(payload: dict) -> tuple[int, dict]:
        req = urllib.request.Request(gw.url + "/_undertow/feedback", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    with serve(Upstream(sim_url, "sim"), Meter(), feedback) as gw:
        assert post({"split": "train", "index": 0, "output": "Answer: 5"}) == (200, {"score": 1.0, "feedback": "Correct"})
        status, body = post({"split": "train", "index": 3, "output": ""})
        assert status == 400 and "no such item" in body["error"]["message"]
        status, _ = post({"index": 0})
        assert status == 400
    assert seen[0] == ("train", 0, "Answer: 5")


def test_upstream_down_is_a_502_not_a_booked_call():
    meter = Meter()
    with serve(Upstream("http://127.0.0.1:9/v1", "sim"), meter) as gw:
        with pytest.raises(openai.InternalServerError):
            _client(gw).chat.completions.create(model="x", messages=ASK)
    assert meter.errors == 1 and meter.tokens == 0
