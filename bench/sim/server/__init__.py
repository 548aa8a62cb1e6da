"""The simulated LLM over HTTP: OpenAI- and Anthropic-compatible, with fault injection.

`undertow sim-server --port N` (or `python -m undertow.bench.sim.server`) serves
`POST /v1/chat/completions` (OpenAI: `n`, `stream` SSE ending in `data: [DONE]`,
`stream_options.include_usage`, usage), `POST /v1/messages` (Anthropic: top-level
`system`, content blocks, `stream` events message_start ... message_stop, usage) and
`GET /v1/models`. Loopback only by default. Every answer comes from the responder
(default `SimLLM()`), so results made with it are `llm=sim`.

In tests (server in a background thread)::

    from undertow.bench.sim.server import running_server

    with running_server(my_sim) as srv:                  # my_sim: default SimLLM()
        client = openai.OpenAI(base_url=srv.openai_base_url, api_key="x")
        srv.set_faults("status=429,times=2,retry_after_ms=10")  # next 2 get 429, then OK
        client.chat.completions.create(model="sim", messages=[...])
        assert srv.stats()["by_status"]["429"] == 2

In benchmarks (server in a child process, so it does not share the client's GIL)::

    with start_in_subprocess(latency_s=0.05) as srv:
        ...  # srv.openai_base_url, srv.anthropic_base_url, srv.set_faults(...)

Faults (`FaultRule`; spec strings, dicts or models; fired in order, see `faults.py`):
`status=429|500|503|529,...` with `retry_after=S` / `retry_after_ms=MS`,
`kind=malformed` (invalid JSON body or stream event), `kind=truncate` (connection
closed mid-body; `truncate_after=K` stream events), `kind=hang` (never answers:
client timeouts), `kind=delay,delay_s=S`; each with `times=N` and/or
`probability=P`, `api=openai|anthropic`, `stream=true|false`. `latency_s` adds a
fixed delay to every completion request without blocking other connections. At run time:
`POST /_undertow/faults` with a `FaultPlan` JSON object, `GET /_undertow/stats`.
Docs: docs/sim-server.md.
"""

from .faults import (
    FaultPlan,
    FaultRule,
    FaultSchedule,
    FaultSpecError,
    format_fault_spec,
    parse_fault_spec,
)
from .harness import ServerHandle, make_plan, running_server, start_in_subprocess
from .httpd import SimServer
from .main import build_plan, load_responder, serve

__all__ = [
    "FaultPlan", "FaultRule", "FaultSchedule", "FaultSpecError", "ServerHandle", "SimServer",
    "build_plan", "format_fault_spec", "load_responder", "make_plan", "parse_fault_spec",
    "running_server", "serve", "start_in_subprocess",
]
