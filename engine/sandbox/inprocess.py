"""`InProcessRunner`: the explicit opt-in to run code in this process, without limits.

It has the same `run`/`arun` interface as `SandboxPool` and returns the same
`SandboxResult`s, so a user who trusts the code (their own, or in a throwaway
container) can swap it in for speed. Nothing is isolated: the code can read your
files and secrets, use the network, loop forever or exit the interpreter; plain
data is still required for arguments and results so both runners behave alike.
"""

from __future__ import annotations

import linecache
import time
from collections.abc import Mapping, Sequence
from typing import Any

from undertow.engine.sandbox import wire
from undertow.engine.sandbox.result import (
    SandboxDataError,
    SandboxFailure,
    SandboxResult,
)


class InProcessRunner:
    """Runs source code by `exec` in this process: no limits, no isolation (opt-in only)."""

    def __init__(self) -> None:
        self._namespaces: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.closed = False

    def run(self, source: str, function_name: str, args: Sequence[Any] = (),
            kwargs: Mapping[str, Any] | None = None, *, filename: str | None = None,
            preamble: str = "", **ignored_limits: Any) -> SandboxResult:
        """Like `SandboxPool.run`; limits passed (timeout_s, cpu_seconds) are ignored."""
        kwargs = dict(kwargs or {})
        for value, where in ((list(args), "args"), (kwargs, "kwargs")):
            problem = wire.plain_problem(value, where)
            if problem is not None:
                raise SandboxDataError(problem)
        filename = filename or f"<in-process {function_name}>"
        t0 = time.perf_counter()
        stage = "syntax"
        try:
            ns = self._namespace(filename, source, preamble)
            fn = ns.get(function_name)
            if fn is None:
                raise NameError(f"the code defines no function named {function_name!r}")
            stage = "exception"
            value = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure of the code becomes a value
            kind = "syntax" if stage == "syntax" and isinstance(exc, SyntaxError) else "exception"
            if isinstance(exc, MemoryError):
                kind = "memory"
            failure = SandboxFailure.from_dict(wire.describe_exception(exc, filename, kind, skip=__file__))
            return SandboxResult(ok=False, error=failure, wall_s=time.perf_counter() - t0)
        problem = wire.plain_problem(value, "the result")
        if problem is not None:
            return SandboxResult(ok=False, wall_s=time.perf_counter() - t0, error=SandboxFailure(
                kind="result", type="NotPlainDataError", message=problem, filename=filename))
        return SandboxResult(ok=True, value=value, wall_s=time.perf_counter() - t0)

    async def arun(self, source: str, function_name: str, args: Sequence[Any] = (),
                   kwargs: Mapping[str, Any] | None = None, **options: Any) -> SandboxResult:
        """`run` for asyncio code (runs inline: the call is in this process anyway)."""
        return self.run(source, function_name, args, kwargs, **options)

    def _namespace(self, filename: str, source: str, preamble: str) -> dict[str, Any]:
        key = (filename, source, preamble)
        ns = self._namespaces.get(key)
        if ns is None:
            ns = {"__name__": "__in_process__"}
            for text, name in ((preamble, f"{filename} (preamble)"), (source, filename)):
                if text:
                    linecache.cache[name] = (len(text), None, text.splitlines(keepends=True), name)
                    exec(compile(text, name, "exec"), ns)  # noqa: S102 - the user opted in
            self._namespaces[key] = ns
        return ns

    def close(self) -> None:
        self._namespaces.clear()
        self.closed = True
