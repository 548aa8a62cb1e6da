"""`SandboxPool`: a persistent pool of sandboxed worker processes.

    with SandboxPool(workers=2, cpu_seconds=2, memory_mb=256, timeout_s=5) as pool:
        res = pool.run("def f(x):\\n    return x * 2\\n", "f", [21])
        res.value        # 42
        res.unwrap()     # 42, or SandboxError for a failed call

Each worker is a fresh interpreter (`python -I`, a minimal environment without the
parent's secrets, its own scratch directory) started at the strongest isolation
level available (`pool.isolation`, see `isolation.py`); it runs every call in a
child forked for that call, under limits, and kills everything the call started
before taking the next one. Calls are thread-safe: each takes an idle worker, or
waits for one. A failed call comes back as a `SandboxResult` whose `error.kind`
says what happened; a worker that dies or breaks the protocol is replaced.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import site
import tempfile
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Self

from undertow.engine.sandbox import wire
from undertow.engine.sandbox.isolation import Isolation, choose, new_worker_uid, worker_uid
from undertow.engine.sandbox.limits import Limits
from undertow.engine.sandbox.process import WorkerLost, WorkerProcess
from undertow.engine.sandbox.result import (
    SandboxClosedError,
    SandboxDataError,
    SandboxFailure,
    SandboxResult,
)

_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


class SandboxPool:
    """Run functions given as source code in sandboxed worker processes.

    Args:
        workers: how many worker processes run calls at the same time.
        cpu_seconds: CPU time one call may use (RLIMIT_CPU, whole seconds).
        memory_mb: address space of each worker (RLIMIT_AS), interpreter included.
        timeout_s: wall-clock time one call may take; then the worker is replaced.
        file_mb: the largest file a call may write (RLIMIT_FSIZE).
        isolation: "auto" (the strongest level available here) or a level by name:
            "bubblewrap", "namespace", "uid", "rlimits" (an error if unavailable).
        procs: how many processes one call may start (RLIMIT_NPROC).
        read_only_paths: directories the code may read at the bubblewrap level (which
            otherwise shows it only the system libraries and the Python installation),
            e.g. a package it imports; other levels see the whole filesystem anyway.
        env: extra environment variables for the workers (the parent's environment
            is not passed on, so API keys stay out of reach).
        max_result_mb: the largest reply accepted from a worker.
        start_timeout_s: how long a new worker may take to start.
        preload: modules (trusted code, such as a task's driver) each worker imports once
            at start, so that every call's forked child has them without importing again.
    """

    def __init__(self, workers: int = 2, *, cpu_seconds: float = 5.0, memory_mb: int = 512,
                 timeout_s: float = 10.0, file_mb: int = 64, isolation: str = "auto", procs: int = 32,
                 read_only_paths: Sequence[str] = (), env: Mapping[str, str] | None = None, max_result_mb: float = 64,
                 start_timeout_s: float = 60.0, preload: Sequence[str] = ()) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers={workers!r}; pass a positive int")
        self.limits = Limits(cpu_seconds=cpu_seconds, memory_mb=memory_mb, timeout_s=timeout_s,
                             file_mb=file_mb)
        if isinstance(procs, bool) or not isinstance(procs, int) or procs < 1:
            raise ValueError(f"procs={procs!r}; pass a positive int (processes one call may start)")
        self.isolation: Isolation = choose(isolation)
        self.max_result_bytes = int(max_result_mb * 1024 * 1024)
        self.start_timeout_s = start_timeout_s
        self._dir = tempfile.mkdtemp(prefix="undertow-sandbox-")
        if os.geteuid() == 0:
            os.chmod(self._dir, 0o711)  # workers of other uids reach their own scratch folders only
        self._extra_env = dict(env or {})
        self.read_only_paths = tuple(os.path.abspath(p) for p in read_only_paths)
        self._settings = {"memory_mb": memory_mb, "file_mb": file_mb, "block_network": True, "procs": procs,
                          "max_result_bytes": self.max_result_bytes,
                          "pid_namespace": self.isolation.pid_namespace,
                          "mount_private": self.isolation.level == "namespace",
                          "private_tmp": self.isolation.pid_namespace,
                          # A worker may run another Python of this version (see isolation.py):
                          # it then still finds the packages of this one.
                          "site_dirs": site.getsitepackages(),
                          # trusted modules each worker imports once; calls' children inherit them
                          "preload": list(preload)}
        self._slots: list[WorkerProcess | None] = [None] * workers
        self._idle: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(workers):
            self._idle.put(i)
        self._lock = threading.Lock()
        self._ids = iter(range(1 << 62))
        self.restarts = 0
        self.closed = False
        self._finalizer = weakref.finalize(self, _shutdown, self._slots, self._dir)

    def _scratch(self, slot: int, uid: int | None) -> str:
        """The worker's scratch directory (HOME, TMPDIR, cwd), wiped after every call."""
        if self.isolation.pid_namespace:
            return "/tmp"  # a private tmpfs inside the worker's own mount namespace
        path = os.path.join(self._dir, f"worker{slot}")
        os.makedirs(path, exist_ok=True)
        if uid is not None:
            os.chown(path, uid, uid)
            os.chmod(path, 0o700)
        return path

    def _worker_env(self, scratch: str) -> dict[str, str]:
        env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
        env.update({"HOME": scratch, "TMPDIR": scratch, "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1"})
        env.update(self._extra_env)
        return env

    # -- public API -----------------------------------------------------------
    @property
    def workers(self) -> int:
        return len(self._slots)

    @property
    def level(self) -> str:
        """The isolation level the workers run at (bubblewrap, namespace, uid, rlimits)."""
        return self.isolation.level

    def start(self) -> SandboxPool:
        """Start every worker now (otherwise each starts on its first call)."""
        taken = [self._idle.get() for _ in self._slots]
        try:
            for i in taken:
                self._worker(i)
            for i in taken:
                self._worker(i).ready(self.start_timeout_s)
        finally:
            for i in taken:
                self._idle.put(i)
        return self

    def worker_pids(self) -> list[int | None]:
        """Process ids of the workers (None where a slot has not started yet)."""
        return [w.pid if w is not None else None for w in self._slots]

    def run(self, source: str, function_name: str, args: Sequence[Any] = (),
            kwargs: Mapping[str, Any] | None = None, *, timeout_s: float | None = None,
            cpu_seconds: float | None = None, filename: str | None = None,
            preamble: str = "") -> SandboxResult:
        """Compile `source` in a worker and call `function_name(*args, **kwargs)`.

        Arguments and the result must be plain data (see `wire.PLAIN_NAMES`);
        arguments that are not raise `SandboxDataError` before anything runs. Every
        failure of the code itself comes back as a result with `ok=False`.
        `timeout_s` and `cpu_seconds` override the pool's limits for this call;
        `filename` names the source in tracebacks; `preamble` is run first in the
        same namespace (imports, helpers) and may be cached with the function.
        """
        request = self._request(source, function_name, args, kwargs, cpu_seconds, filename, preamble)
        timeout = self.limits.timeout_s if timeout_s is None else Limits(timeout_s=timeout_s).timeout_s
        slot = self._acquire()
        try:
            worker = self._worker(slot)
            try:
                worker.ready(self.start_timeout_s)
                request["timeout_s"] = timeout
                reply = worker.call(request, timeout, self.max_result_bytes)
                if worker.poisoned:
                    self._replace(slot)
            except WorkerLost as lost:
                self._replace(slot)
                return SandboxResult(ok=False, worker_pid=worker.pid, error=SandboxFailure(
                    kind=lost.kind, type=_LOST_TYPES.get(lost.kind, "WorkerCrashed"), message=str(lost),
                    filename=request["filename"]))
        finally:
            self._idle.put(slot)
        return _result(reply, worker.pid)

    async def arun(self, source: str, function_name: str, args: Sequence[Any] = (),
                   kwargs: Mapping[str, Any] | None = None, **options: Any) -> SandboxResult:
        """`run` for asyncio code: the blocking wait happens in a thread."""
        return await asyncio.to_thread(self.run, source, function_name, args, kwargs, **options)

    def close(self) -> None:
        """Stop every worker and remove the pool's working directory. Idempotent."""
        self.closed = True
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.workers} workers"
        return (f"SandboxPool({state}, cpu_seconds={self.limits.cpu_seconds:g}, memory_mb={self.limits.memory_mb}, "
                f"timeout_s={self.limits.timeout_s:g}, isolation={self.level})")

    # -- internals --------------------------------------------------------------
    def _request(self, source: str, function_name: str, args: Sequence[Any],
                 kwargs: Mapping[str, Any] | None, cpu_seconds: float | None, filename: str | None,
                 preamble: str) -> dict[str, Any]:
        if not isinstance(source, str) or not isinstance(preamble, str):
            raise SandboxDataError("source and preamble must be Python source as str")
        if not isinstance(function_name, str) or not function_name.isidentifier():
            raise SandboxDataError(f"function_name={function_name!r} is not a Python identifier")
        if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)):
            raise SandboxDataError(f"args must be a list or tuple of arguments, got {type(args).__name__}")
        kwargs = dict(kwargs or {})
        if not all(isinstance(k, str) for k in kwargs):
            raise SandboxDataError("kwargs keys must be str (argument names)")
        for value, where in ((list(args), "args"), (kwargs, "kwargs")):
            problem = wire.plain_problem(value, where)
            if problem is not None:
                raise SandboxDataError(problem)
        cpu = self.limits.cpu_seconds if cpu_seconds is None else Limits(cpu_seconds=cpu_seconds).cpu_seconds
        return {"op": "call", "id": next(self._ids), "source": source, "function": function_name,
                "args": list(args), "kwargs": kwargs, "cpu_seconds": cpu, "preamble": preamble,
                "filename": filename or f"<sandbox {function_name}>"}

    def _acquire(self) -> int:
        if self.closed:
            raise SandboxClosedError("this SandboxPool is closed; create a new one")
        slot = self._idle.get()
        if self.closed:
            self._idle.put(slot)
            raise SandboxClosedError("this SandboxPool was closed while the call waited for a worker")
        return slot

    def _worker(self, slot: int) -> WorkerProcess:
        worker = self._slots[slot]
        if worker is None or not worker.alive():
            if worker is not None:
                worker.kill()
                with self._lock:
                    self.restarts += 1
            uid = new_worker_uid() if self.isolation.level == "uid" else worker_uid(self.isolation)
            scratch = self._scratch(slot, uid)
            worker = WorkerProcess(self.isolation, {**self._settings, "scratch": scratch},
                                   self._dir if self.isolation.pid_namespace else scratch,
                                   self._worker_env(scratch), os.path.join(self._dir, f".worker{slot}.stderr"), uid,
                                   self.read_only_paths)
            self._slots[slot] = worker
        return worker

    def _replace(self, slot: int) -> None:
        """Kill the slot's worker and start its successor now (it warms up meanwhile)."""
        old = self._slots[slot]
        if old is not None:
            old.kill()
        self._slots[slot] = None
        with self._lock:
            self.restarts += 1
        if not self.closed:
            self._worker(slot)


_LOST_TYPES = {"timeout": "TimeoutError", "crash": "WorkerCrashed", "result": "ResultTooLarge"}


def _result(reply: dict[str, Any], pid: int) -> SandboxResult:
    common = {"stdout": str(reply.get("stdout", "")), "stderr": str(reply.get("stderr", "")),
              "cpu_s": float(reply.get("cpu_s", 0.0)), "wall_s": float(reply.get("wall_s", 0.0)),
              "worker_pid": pid}
    if reply.get("ok"):
        return SandboxResult(ok=True, value=reply.get("value"), **common)
    error = reply.get("error")
    failure = SandboxFailure.from_dict(error if isinstance(error, dict) else {"message": repr(error)})
    return SandboxResult(ok=False, error=failure, **common)


def _shutdown(slots: list[WorkerProcess | None], directory: str) -> None:
    for i, worker in enumerate(slots):
        if worker is not None:
            worker.stop()
            slots[i] = None
    shutil.rmtree(directory, ignore_errors=True)
