"""What a sandboxed call gives back: a `SandboxResult`, never an exception.

A failure is described by a `SandboxFailure` whose `kind` says what happened:

- ``exception``: the code raised (type, message, failing line, traceback);
- ``syntax``: the source does not compile;
- ``timeout``: the wall-clock limit passed; the worker was killed and replaced;
- ``cpu``: the CPU-time limit (RLIMIT_CPU) was reached;
- ``memory``: an allocation failed under the memory limit (RLIMIT_AS);
- ``network``: the code tried to use the network;
- ``crash``: the worker died (os._exit, a signal, a segfault); it was replaced;
- ``result``: the return value is not plain data (see `wire.PLAIN_NAMES`).

`SandboxResult.unwrap()` returns the value or raises `SandboxError`, whose
`location` (filename, line number, line) lets the engine build an error node that
points at the failing line of the code that ran in the other process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from undertow.engine.errors import UndertowError

KINDS = ("exception", "syntax", "timeout", "cpu", "memory", "network", "crash", "result")


@dataclass(frozen=True)
class SandboxFailure:
    """Why a sandboxed call produced no value (plain data, safe to log or save)."""

    kind: str
    type: str
    message: str
    filename: str | None = None
    lineno: int | None = None
    line: str | None = None
    traceback: str = ""

    def summary(self) -> str:
        """One line: `ZeroDivisionError: division by zero (line 3: return a / b)`."""
        where = f" (line {self.lineno}: {self.line.strip()})" if self.line else (
            f" (line {self.lineno})" if self.lineno else "")
        return f"{self.type}: {self.message}{where}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxFailure:
        kind = data.get("kind")
        return cls(kind=kind if kind in KINDS else "exception", type=str(data.get("type", "Error")),
                   message=str(data.get("message", "")), filename=data.get("filename"),
                   lineno=data.get("lineno") if isinstance(data.get("lineno"), int) else None,
                   line=data.get("line") if isinstance(data.get("line"), str) else None,
                   traceback=str(data.get("traceback", "")))


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one call: `value` when `ok`, else `error`.

    `stdout`/`stderr` hold what the code printed (clipped), `cpu_s` and `wall_s`
    what the call cost inside the worker, `worker_pid` which process ran it.
    """

    ok: bool
    value: Any = None
    error: SandboxFailure | None = None
    stdout: str = ""
    stderr: str = ""
    cpu_s: float = 0.0
    wall_s: float = 0.0
    worker_pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def unwrap(self) -> Any:
        """The value, or `SandboxError` describing the failure."""
        if self.ok:
            return self.value
        assert self.error is not None
        raise SandboxError(self.error)


class SandboxError(UndertowError):
    """A sandboxed call failed. `failure` says how; `location` where, for error nodes.

    The message is `[sandbox: <kind>] <Type>: <message>`; the failing line is left
    to `location` so that an error node, which appends the line itself, does not
    show it twice. `failure.summary()` has both on one line.
    """

    def __init__(self, failure: SandboxFailure) -> None:
        self.failure = failure
        super().__init__(f"[sandbox: {failure.kind}] {failure.type}: {failure.message}")

    @property
    def kind(self) -> str:
        return self.failure.kind

    @property
    def location(self) -> tuple[str | None, int | None, str | None] | None:
        """(filename, lineno, line) of the failing line in the sandboxed code, if known."""
        if self.failure.lineno is None:
            return None
        return self.failure.filename, self.failure.lineno, self.failure.line


class SandboxDataError(UndertowError, TypeError):
    """Arguments that cannot cross the sandbox boundary (not plain data); nothing was run."""


class SandboxClosedError(UndertowError, RuntimeError):
    """The pool was closed; create a new `SandboxPool` (or use it in a `with` block)."""
