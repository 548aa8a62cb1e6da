"""One worker process seen from the parent: start, call with a deadline, kill.

The worker speaks length-prefixed pickles over two pipes (see `wire.py`). Every
reply is checked against its request: the same id, a known status, a body that
unpickles to plain data of the expected shape, and nothing more on the pipe. A
worker that breaks any of these, misses its deadline (the call's timeout plus a
grace period: the worker enforces the timeout itself), or dies, is killed with
everything it started (process group, PID namespace, or its own uid) and raises
`WorkerLost`; the pool turns that into a failure result and a fresh worker.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from undertow.engine.sandbox import wire
from undertow.engine.sandbox.isolation import Isolation, kill_uid, spawn, worker_command

WORKER_FILE = str(Path(__file__).with_name("worker.py"))


class WorkerLost(Exception):
    """The worker did not answer: it timed out, crashed or broke the protocol."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class WorkerProcess:
    """A started worker. `ready()` waits for its hello; `call()` runs one request."""

    def __init__(self, isolation: Isolation, settings: dict[str, Any], cwd: str, env: dict[str, str],
                 stderr_path: str, uid: int | None = None, read_only: tuple[str, ...] = ()) -> None:
        self.stderr_path = stderr_path
        self.uid = uid
        self.poisoned = False  # the channel misbehaved: replace this worker after the call
        self._stderr = open(stderr_path, "ab")  # noqa: SIM115 - kept open for the child's life
        argv, preexec = worker_command(isolation, WORKER_FILE, json.dumps(settings), uid, env, read_only)
        self.proc: subprocess.Popen[bytes] = spawn(lambda: subprocess.Popen(  # type: ignore[assignment]
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd=cwd, env=env,
            start_new_session=True, close_fds=True, preexec_fn=preexec,
        ))
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
        if hello.get("notes"):  # the level's set-up failed: refuse to run weaker than announced
            self.kill()
            raise WorkerLost("crash", f"the worker could not set up its isolation: {hello['notes']}")
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
        reply = self._read(time.monotonic() + timeout_s + GRACE_S, max_bytes + 4096, waiting_for="call",
                           timeout_s=timeout_s)
        if self._pending():
            self.poisoned = True  # more bytes than one reply: someone else wrote on the channel
        return self._check(reply, request, max_bytes)

    def _pending(self) -> bool:
        assert self.proc.stdout is not None
        return bool(select.select([self.proc.stdout.fileno()], [], [], 0)[0]) and self.alive()

    def _bad(self, why: str) -> WorkerLost:
        self.kill()
        return WorkerLost("crash", f"the worker broke the protocol ({why}); it was replaced")

    def _check(self, reply: Any, request: dict[str, Any], max_bytes: int) -> dict[str, Any]:
        """The child's reply for `request`, validated; WorkerLost for anything else."""
        if not isinstance(reply, dict) or reply.get("id") != request["id"]:
            raise self._bad(f"a reply to request {reply.get('id') if isinstance(reply, dict) else reply!r:.60} "
                            f"instead of {request['id']}")
        status = reply.get("status")
        if status == "timeout":
            return {"ok": False, "error": {
                "kind": "timeout", "type": "TimeoutError", "filename": request["filename"],
                "message": f"the call took longer than timeout_s={request['timeout_s']:g} s of wall time; "
                           "it was killed with every process it started"}}
        if status == "too_large":
            return {"ok": False, "error": {
                "kind": "result", "type": "ResultTooLarge", "filename": request["filename"],
                "message": f"the reply is above the limit of {max_bytes} bytes; return less data or raise "
                           "max_result_mb"}}
        if status == "crash":
            return {"ok": False, "error": {"kind": "crash", "type": "WorkerCrashed", "filename": request["filename"],
                                           "message": _exit_message(reply.get("exit"))}}
        body = reply.get("body")
        if status != "done" or not isinstance(body, bytes) or len(body) > max_bytes:
            raise self._bad(f"status {status!r}")
        try:
            inner = wire.loads(body)
        except Exception as exc:  # noqa: BLE001 - the call's own bytes, possibly hostile
            return {"ok": False, "error": {"kind": "result", "type": "UnreadableResult", "filename": request["filename"],
                                           "message": f"the call's reply could not be read ({exc})"[:500]}}
        problem = _shape_problem(inner)
        if problem is not None:
            return {"ok": False, "error": {"kind": "result", "type": "UnreadableResult",
                                           "filename": request["filename"], "message": problem}}
        return inner

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
        """End the worker and anything it started: its process group always (even when the
        worker itself already exited), its PID namespace with it, and its uid's processes."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.uid is not None:
            kill_uid(self.uid)
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



GRACE_S = 5.0  # the worker enforces the call's timeout; the parent waits this much longer


def _exit_message(code: Any) -> str:
    if isinstance(code, int) and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        what = f"the call's process was killed by {name}"
        if -code == signal.SIGKILL:
            what += " (the memory or CPU limit, the system's OOM killer, or a kill)"
        elif -code == signal.SIGXCPU:
            what += " (the CPU-time limit)"
        return what
    return f"the call's process exited with code {code} before replying (os._exit, or a crash)"


_REPLY_KEYS = {"ok", "value", "error", "stdout", "stderr", "cpu_s", "wall_s"}


def _shape_problem(reply: Any) -> str | None:
    """Why a child's reply is not a well-formed reply of plain data, or None."""
    if not isinstance(reply, dict) or not set(reply) <= _REPLY_KEYS or not isinstance(reply.get("ok"), bool):
        return "the call's reply is not a reply"
    if reply["ok"]:
        return wire.plain_problem(reply.get("value"), "the result")
    if not isinstance(reply.get("error"), dict):
        return "the call's reply has no error description"
    return wire.plain_problem(reply, "the reply")
