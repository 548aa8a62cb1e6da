"""One worker process seen from the parent: start, call with a deadline, kill.

The worker speaks length-prefixed pickles over two pipes (see `wire.py`). A call
that does not answer before its deadline, a pipe that closes, or a frame that is too
large ends the process (its whole process group) and raises `WorkerLost`, which the
pool turns into a failure result and a fresh worker.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from undertow.engine.sandbox import wire

WORKER_FILE = str(Path(__file__).with_name("worker.py"))


class WorkerLost(Exception):
    """The worker did not answer: it timed out, crashed or broke the protocol."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class WorkerProcess:
    """A started worker. `ready()` waits for its hello; `call()` runs one request."""

    def __init__(self, prefix: list[str], settings: dict[str, Any], cwd: str, env: dict[str, str],
                 stderr_path: str) -> None:
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "ab")  # noqa: SIM115 - kept open for the child's life
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-I", WORKER_FILE, json.dumps(settings)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd=cwd, env=env,
            start_new_session=True, close_fds=True,
        )
        self.pid = self.proc.pid
        self.limits: dict[str, Any] | None = None
        self.calls = 0

    def ready(self, timeout_s: float) -> None:
        """Wait for the worker's hello (it has applied its limits); WorkerLost if none comes."""
        if self.limits is not None:
            return
        hello = self._read(time.monotonic() + timeout_s, 1 << 20, waiting_for="start")
        if not isinstance(hello, dict) or not hello.get("ready"):
            self.kill()
            raise WorkerLost("crash", f"the worker sent {hello!r:.200} instead of its hello")
        self.limits = hello.get("limits", {})

    def call(self, request: dict[str, Any], timeout_s: float, max_bytes: int) -> dict[str, Any]:
        """Send `request`, wait at most `timeout_s` for the reply."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(wire.encode_frame(request))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise WorkerLost("crash", self._death_message()) from None
        self.calls += 1
        reply = self._read(time.monotonic() + timeout_s, max_bytes, waiting_for="call",
                           timeout_s=timeout_s)
        if not isinstance(reply, dict):
            self.kill()
            raise WorkerLost("crash", f"the worker sent {type(reply).__name__} instead of a reply")
        return reply

    def _read(self, deadline: float, max_bytes: int, *, waiting_for: str,
              timeout_s: float | None = None) -> Any:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        header = self._read_exact(fd, wire.HEADER_SIZE, deadline, waiting_for, timeout_s)
        size = wire.frame_length(header)
        if size > max_bytes:
            self.kill()
            raise WorkerLost("result", f"the reply is {size} bytes, above the limit of {max_bytes}; "
                             "return less data or raise max_result_mb")
        body = self._read_exact(fd, size, deadline, waiting_for, timeout_s)
        try:
            return wire.loads(body)
        except Exception as exc:  # noqa: BLE001 - a hostile or broken reply
            self.kill()
            raise WorkerLost("crash", f"unreadable reply from the worker: {exc}") from None

    def _read_exact(self, fd: int, n: int, deadline: float, waiting_for: str,
                    timeout_s: float | None) -> bytes:
        chunks = []
        while n:
            left = deadline - time.monotonic()
            readable = select.select([fd], [], [], max(left, 0.0))[0] if left > 0 else []
            if not readable:
                self.kill()
                if waiting_for == "start":
                    raise WorkerLost("crash", "the worker did not start in time" + self._stderr_tail())
                raise WorkerLost("timeout", f"the call took longer than timeout_s={timeout_s:g} s of wall "
                                 "time; the worker was killed and will be replaced")
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                self.kill()
                raise WorkerLost("crash", self._death_message())
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _death_message(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            what = "the worker closed its pipe"
        elif code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            what = f"the worker was killed by {name}"
            if -code == signal.SIGKILL:
                what += " (the memory limit, the system's OOM killer, or an outside kill)"
            elif -code == signal.SIGXCPU:
                what += " (the CPU-time limit)"
        else:
            what = f"the worker exited with code {code} (os._exit or exit outside the call)"
        return what + "; it will be replaced" + self._stderr_tail()

    def _stderr_tail(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(max(0, os.path.getsize(self.stderr_path) - 1500))
                tail = f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""
        return f"\n--- worker stderr (tail) ---\n{tail}" if tail else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """End the worker and anything it started (its process group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()

    def stop(self, grace_s: float = 1.0) -> None:
        """Ask the worker to exit; kill it if it does not within `grace_s`."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(wire.encode_frame({"op": "exit"}))
                self.proc.stdin.flush()
                self.proc.wait(timeout=grace_s)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

