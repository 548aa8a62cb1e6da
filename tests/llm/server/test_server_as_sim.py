"""The sim over HTTP behaves like the sim in process, and says it is the sim (llm=sim)."""

from __future__ import annotations

import json
import socket

import openai
from undertow.bench.runner.llm_label import is_sim_server, llm_label
from undertow.bench.sim import SimLLM
from undertow.bench.sim.server import running_server
from undertow.bench.tasks.reasoning import boolean_expressions as be

ITEM = "not ( True ) and ( False or True ) is"
STEPS = "Think step by step. " + be.PROFILE.skill("answer_format").fix


def test_no_temperature_means_the_same_reply_as_in_process() -> None:
    msgs = [{"role": "system", "content": STEPS}, {"role": "user", "content": ITEM}]
    local = SimLLM([be.PROFILE])
    with running_server(SimLLM([be.PROFILE])) as srv:
        client = openai.OpenAI(base_url=srv.openai_base_url, api_key="x")
        for seed in range(5):
            got = client.chat.completions.create(model="sim", messages=msgs, seed=seed)
            assert got.choices[0].message.content == local.complete(msgs, seed=seed).text


def test_no_temperature_is_not_the_apis_default_of_one() -> None:
    """Where the sim's reply depends on the temperature, a request that sends none gets
    the in-process default's reply, not the OpenAI API's default 1.0 (issue #11, item 8)."""
    msgs = [{"role": "system", "content": "Answer the question."},
            {"role": "user", "content": "not not ( not False ) and True or False is"}]
    local = SimLLM([be.PROFILE])
    differ = [k for k in range(10) if local.complete(msgs, seed=k).text
              != local.complete(msgs, seed=k, temperature=1.0).text]
    assert differ, "the request must be one whose reply depends on the temperature"
    with running_server(SimLLM([be.PROFILE])) as srv:
        client = openai.OpenAI(base_url=srv.openai_base_url, api_key="x")
        for seed in differ:
            got = client.chat.completions.create(model="sim", messages=msgs, seed=seed)
            assert got.choices[0].message.content == local.complete(msgs, seed=seed).text


def test_response_format_reaches_the_sim_and_its_stats_are_served() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {
        "type": "object", "properties": {"answer": {"type": "string"}}}}}
    with running_server(SimLLM([be.PROFILE])) as srv:
        client = openai.OpenAI(base_url=srv.openai_base_url, api_key="x")
        got = client.chat.completions.create(model="sim", messages=[{"role": "user", "content": ITEM}],
                                             response_format=fmt)
        assert set(json.loads(got.choices[0].message.content)) == {"answer"}
        stats = srv.stats()
        assert stats["sim"]["by_role"] == {"answer": 1}
        srv.reset_stats()
        assert srv.stats()["sim"]["requests"] == 0


def test_a_spec_pointing_at_a_sim_server_is_labelled_sim() -> None:
    with running_server(SimLLM([be.PROFILE])) as srv:
        assert is_sim_server(srv.openai_base_url)
        assert llm_label(f"openai-compatible:{srv.openai_base_url}#sim") == "sim"
    with socket.socket() as s:  # a port nobody listens on: not a sim-server
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = f"openai-compatible:http://127.0.0.1:{port}/v1#m"
    assert llm_label(spec) == spec
    assert llm_label("sim") == "sim" and llm_label("openai:gpt-4o") == "openai:gpt-4o"
