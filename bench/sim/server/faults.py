"""Fault injection for the sim-server: what can go wrong, how often, and in what order.

A `FaultPlan` is plain data (pydantic, JSON in and out): a fixed latency added to every
API request plus an ordered list of `FaultRule`s. A `FaultSchedule` is its thread-safe
runtime state: for each request it walks the rules in order and fires the first one
that matches the request, still has hits left, and wins its probability draw. So
`[FaultRule(status=429, times=2, retry_after_ms=10)]` means "the next two requests get
429, then everything succeeds", and rules listed one after another form a queue.

Rules are also written as compact spec strings on the command line, e.g.
`status=429,times=2,retry_after_ms=10` or `kind=truncate,probability=0.1`; see
`parse_fault_spec` / `format_fault_spec`.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

FaultKind = Literal["status", "malformed", "truncate", "hang", "delay"]
Api = Literal["openai", "anthropic"]


class FaultSpecError(ValueError):
    """A fault spec string or JSON schedule is invalid; the message says how to fix it."""


class FaultRule(BaseModel):
    """One kind of failure, how many requests it hits, and which requests qualify.

    kinds:
      - `status`: reply `status` with a provider-shaped JSON error body and, if set, the
        `retry-after` (seconds) / `retry-after-ms` headers;
      - `malformed`: reply 200 with a body (or a stream event) that is not valid JSON;
      - `truncate`: start the reply, then close the connection mid-body (streams: after
        `truncate_after` events);
      - `hang`: read the request and never answer (until the client gives up, the
        server stops, or `hang_s` passes), to exercise client timeouts;
      - `delay`: only wait `delay_s` more, then answer normally.
    `delay_s` is waited before any kind acts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind = "status"
    status: int = Field(429, ge=400, le=599, description="HTTP status for kind=status.")
    retry_after: float | None = Field(
        None, ge=0, le=86400, description="`retry-after` header, seconds."
    )
    retry_after_ms: int | None = Field(
        None, ge=0, le=86_400_000, description="`retry-after-ms` header."
    )
    times: int | None = Field(
        None, ge=0, description="How many requests this rule hits; None: no limit."
    )
    probability: float = Field(1.0, ge=0.0, le=1.0, description="Chance to hit a request.")
    delay_s: float = Field(0.0, ge=0.0, le=3600.0, description="Extra wait before acting.")
    api: Literal["any", "openai", "anthropic"] = "any"
    stream: bool | None = Field(None, description="Only streaming (True) / plain (False).")
    truncate_after: int = Field(1, ge=0, description="Stream events sent before the cut.")
    hang_s: float = Field(300.0, gt=0.0, le=3600.0, description="Longest hang, seconds.")
    message: str | None = Field(None, description="Error message for kind=status.")

    @model_validator(mode="after")
    def _kind_fields(self) -> FaultRule:
        if self.kind != "status" and (self.retry_after is not None or self.retry_after_ms is not None):
            # Headers only travel with an error status; silently dropping them would hide a typo.
            raise ValueError("retry_after/retry_after_ms only apply to kind=status")
        return self

    def matches(self, api: Api, stream: bool) -> bool:
        """Whether this rule may apply to a request on `api`, streaming or not."""
        return self.api in ("any", api) and (self.stream is None or self.stream == stream)


class FaultPlan(BaseModel):
    """A whole schedule: fixed latency for every completion request, then the ordered rules."""

    model_config = ConfigDict(extra="forbid")

    latency_s: float = Field(
        0.0, ge=0.0, le=3600.0, description="Waited before every completion request."
    )
    rules: list[FaultRule] = Field(default_factory=list)
    seed: int = Field(0, description="Seed of the probability draws (reproducible runs).")
    rpm: float | None = Field(
        None, gt=0, description="Requests per minute the server accepts (a provider's limit); "
        "past it a completion gets 429 with retry-after-ms. None: no limit.")
    rpm_burst: float | None = Field(
        None, gt=0, description="Requests accepted at once after an idle spell (default: a "
        "minute's worth, as providers count).")

    @model_validator(mode="after")
    def _burst_needs_rpm(self) -> FaultPlan:
        if self.rpm_burst is not None and self.rpm is None:
            raise ValueError("rpm_burst needs rpm (the limit it is the burst of)")
        return self

    @classmethod
    def from_json(cls, raw: bytes | str) -> FaultPlan:
        """Parse a JSON schedule; raise `FaultSpecError` naming the bad field."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise FaultSpecError(f"invalid fault schedule: {_explain(exc)}") from None


class RequestBucket:
    """The server's requests-per-minute limit: a token bucket that refuses, never queues.

    `admit(now)` takes one request if the bucket holds one and returns 0.0; otherwise it
    takes nothing and returns the seconds until one is there (the `retry-after`).
    """

    def __init__(self, rpm: float, burst: float | None, now: float) -> None:
        self.rate = rpm / 60.0
        self.capacity = float(burst if burst is not None else rpm)
        self.level, self.stamp = self.capacity, now

    def admit(self, now: float) -> float:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= 1.0:
            self.level -= 1.0
            return 0.0
        return (1.0 - self.level) / self.rate


class FaultSchedule:
    """Thread-safe runtime state of a `FaultPlan`: hits left per rule, the RNG, the
    request bucket of its `rpm` limit, and the arrival times of completion requests."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self.replace(plan or FaultPlan())

    def replace(self, plan: FaultPlan) -> None:
        """Install a new plan; hit counts start afresh."""
        with self._lock:
            self._plan = plan
            self._left = [r.times for r in plan.rules]
            self._rng = random.Random(plan.seed)
            self._bucket = RequestBucket(plan.rpm, plan.rpm_burst, time.monotonic()) if plan.rpm else None

    def rate_limit(self, now: float | None = None) -> float:
        """0.0 if a completion request may be served now, else the seconds until one may
        (the request is refused: 429). Always 0.0 without an `rpm` limit."""
        with self._lock:
            if self._bucket is None:
                return 0.0
            return self._bucket.admit(time.monotonic() if now is None else now)

    @property
    def latency_s(self) -> float:
        return self._plan.latency_s

    @property
    def rpm(self) -> float | None:
        return self._plan.rpm

    def snapshot(self) -> dict:
        """The installed plan plus the hits left per rule (JSON-ready)."""
        with self._lock:
            return {**self._plan.model_dump(mode="json"), "left": list(self._left)}

    def pick(self, api: Api, stream: bool) -> FaultRule | None:
        """The rule that fires for this request, consuming one of its hits; else None."""
        with self._lock:
            for i, rule in enumerate(self._plan.rules):
                left = self._left[i]
                if (left is not None and left <= 0) or not rule.matches(api, stream):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                if left is not None:
                    self._left[i] = left - 1
                return rule
        return None


_FIELDS = tuple(FaultRule.model_fields)


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse `key=value,key=value` (FaultRule fields; `-` may stand for `_`) into a rule.

    A bare number is shorthand for `status=N`, e.g. `503` or `429,times=2`.
    Values: integers, decimals, `none`, `true`/`false`, or text (for `message`, no commas).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise FaultSpecError("empty fault spec; write e.g. 'status=429,times=2,retry_after_ms=10'")
    fields: dict[str, object] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            raise FaultSpecError(f"empty item in fault spec {spec!r}; remove the stray comma")
        if "=" not in part:
            if part.isdigit():
                key, value = "status", part
            else:
                raise FaultSpecError(
                    f"fault spec item {part!r} is not key=value; known keys: {', '.join(_FIELDS)}"
                )
        else:
            key, value = (s.strip() for s in part.split("=", 1))
        key = key.replace("-", "_").lower()
        if key not in _FIELDS:
            raise FaultSpecError(f"unknown fault key {key!r} in {spec!r}; known keys: {', '.join(_FIELDS)}")
        if key in fields:
            raise FaultSpecError(f"fault key {key!r} given twice in {spec!r}")
        fields[key] = value if key == "message" else _scalar(value)
    try:
        return FaultRule.model_validate(fields)
    except ValidationError as exc:
        raise FaultSpecError(f"invalid fault spec {spec!r}: {_explain(exc)}") from None


def format_fault_spec(rule: FaultRule) -> str:
    """The spec string of `rule` (non-default fields only); parses back to an equal rule."""
    items = []
    for key, value in rule.model_dump(exclude_defaults=True).items():
        if value is None:
            text = "none"
        elif isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = str(value)
        if key == "message" and ("," in text or text != text.strip() or not text):
            raise FaultSpecError(
                "a message with commas or edge spaces cannot be a spec string; use a JSON schedule"
            )
        items.append(f"{key}={text}")
    return ",".join(items) or "kind=status"


def _scalar(text: str) -> object:
    low = text.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _explain(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
