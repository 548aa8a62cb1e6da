"""OpenTelemetry export (extra `[otel]`): runs, steps, proposals and LLM calls as spans.

`OpenTelemetryCallback` is a `Callback`: give it to the bench runner (`start(...,
callbacks=[OpenTelemetryCallback()])`, or `undertow bench run --otel otlp`) or to an
optimizer and an `LLM` directly. Spans nest as run -> step -> (proposal, LLM call).
LLM call spans follow the OpenTelemetry GenAI semantic conventions, so Langfuse,
Phoenix, MLflow or Jaeger show model and tokens without configuration:

- name `chat <model>`; `gen_ai.operation.name` = `chat`; `gen_ai.provider.name`
  and `gen_ai.system` = the provider; `gen_ai.request.model`, `gen_ai.response.model`;
- `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`;
  `gen_ai.response.finish_reasons`; `error.type` on failures;
- not (yet) in the conventions: `gen_ai.usage.cost` (USD, the name Langfuse reads),
  `undertow.llm.cache_hit`, `undertow.llm.purpose`.

The SDK is imported when the callback is built; without it the error says which
extra to install. With worker processes each process exports its own spans: use an
exporter that sends them somewhere (OTLP), not an in-memory one.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from undertow.engine.callbacks import Callback, LLMCallEvent, ProposalEvent, RunEvent, StepEvent


def _sdk_missing(exc: ImportError) -> ImportError:
    return ImportError("OpenTelemetry export needs the SDK: pip install 'undertow[otel]' "
                       f"(opentelemetry-sdk) ({exc})")


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class OpenTelemetryCallback(Callback):
    """Turn callback events into OpenTelemetry spans.

    Args:
        tracer_provider: the SDK `TracerProvider` to use (default: the global one).
        max_value_chars: longest proposed value kept as a span attribute.
    """

    def __init__(self, tracer_provider: Any = None, *, max_value_chars: int = 2000) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise _sdk_missing(exc) from None
        from undertow import __version__

        self._trace = trace
        self.tracer = trace.get_tracer("undertow", __version__, tracer_provider=tracer_provider)
        self.max_value_chars = max_value_chars
        self._lock = threading.Lock()
        self._run: Any = None
        self._step: Any = None

    def __getstate__(self) -> dict[str, Any]:  # worker processes build their own tracer
        raise TypeError("OpenTelemetryCallback cannot be sent to worker processes; run with --workers 1, "
                        "or configure OpenTelemetry in each worker")

    def _parent(self) -> Any:
        span = self._step or self._run
        return self._trace.set_span_in_context(span) if span is not None else None

    # runs and steps ------------------------------------------------------------
    def on_run_start(self, run: RunEvent) -> None:
        with self._lock:
            self._run = self.tracer.start_span(f"undertow.run {run.run_id}", attributes={
                "undertow.run.id": run.run_id, "undertow.task": run.task, "undertow.optimizer": run.optimizer,
                "undertow.seed": run.seed, "undertow.llm": run.llm, "undertow.steps": run.steps,
                **{f"undertow.{k}": v for k, v in run.attrs.items() if isinstance(v, (str, int, float, bool))}})

    def on_run_end(self, run: RunEvent) -> None:
        with self._lock:
            self._end_step()
            if self._run is None:
                return
            self._run.set_attribute("undertow.status", run.status)
            if run.status != "done":
                self._run.set_status(self._trace.Status(self._trace.StatusCode.ERROR, run.error or run.status))
            self._run.end()
            self._run = None

    def on_step_start(self, step: StepEvent) -> None:
        with self._lock:
            self._end_step()
            self._step = self.tracer.start_span(f"undertow.step {step.step}", context=self._parent(),
                                                attributes={"undertow.step": step.step,
                                                            "undertow.run.id": step.run_id})

    def on_step(self, step: StepEvent) -> None:
        with self._lock:
            if self._step is None:
                return
            if step.score is not None:
                self._step.set_attribute("undertow.score", step.score)
            self._step.set_attribute("undertow.spent.calls", step.calls)
            self._step.set_attribute("undertow.spent.tokens", step.tokens)
            self._step.set_attribute("undertow.spent.cost_usd", step.cost_usd)
            self._end_step()

    def _end_step(self) -> None:
        if self._step is not None:
            self._step.end()
            self._step = None

    # proposals and LLM calls -----------------------------------------------------
    def on_proposal(self, proposal: ProposalEvent) -> None:
        value = proposal.value if isinstance(proposal.value, str) else repr(proposal.value)
        attrs: dict[str, Any] = {
            "undertow.optimizer": proposal.optimizer, "undertow.parameter": proposal.parameter,
            "undertow.proposal.accepted": proposal.accepted, "undertow.proposal.reason": proposal.reason,
            "undertow.proposal.value": value[: self.max_value_chars]}
        for k, v in proposal.meta.items():
            if isinstance(v, (str, int, float, bool)):
                attrs[f"undertow.proposal.meta.{k}"] = v
        with self._lock:
            span = self.tracer.start_span(f"undertow.proposal {proposal.parameter}", context=self._parent(),
                                          attributes=attrs)
        span.end()

    def on_llm_call(self, call: LLMCallEvent) -> None:
        end = time.time_ns()
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": call.provider,
            "gen_ai.system": call.provider, "gen_ai.request.model": call.model,
            "gen_ai.response.model": call.model,
            "gen_ai.usage.input_tokens": call.input_tokens, "gen_ai.usage.output_tokens": call.output_tokens,
            "gen_ai.usage.cost": call.cost_usd, "undertow.llm.cache_hit": call.cached,
            "undertow.llm.purpose": call.purpose}
        if call.finish_reason:
            attrs["gen_ai.response.finish_reasons"] = [call.finish_reason]
        if call.error:
            attrs["error.type"] = call.error.split(":", 1)[0]
        with self._lock:
            span = self.tracer.start_span(f"chat {call.model}", context=self._parent(), attributes=attrs,
                                          start_time=end - _ns(call.latency_s),
                                          kind=self._trace.SpanKind.CLIENT)
        if call.error:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, call.error))
        span.end(end_time=end)

    def on_error(self, error: BaseException, where: str) -> None:
        with self._lock:
            span = self._step or self._run
            if span is not None:
                span.record_exception(error)


def otel_callback(exporter: str) -> OpenTelemetryCallback:
    """A callback exporting to `console` (spans printed as JSON on stdout) or `otlp`
    (OTLP over HTTP, configured by the standard `OTEL_EXPORTER_OTLP_*` variables)."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
    except ImportError as exc:
        raise _sdk_missing(exc) from None
    provider = TracerProvider(resource=Resource.create({"service.name": "undertow"}))
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))  # today's stdout
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise ImportError("--otel otlp needs the OTLP exporter: pip install "
                              f"opentelemetry-exporter-otlp-proto-http ({exc})") from None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        raise ValueError(f"unknown OpenTelemetry exporter {exporter!r}; use console or otlp")
    callback = OpenTelemetryCallback(provider)
    callback.provider = provider  # type: ignore[attr-defined] - so the caller can flush it
    return callback


__all__ = ["OpenTelemetryCallback", "otel_callback"]
