"""The sandbox worker: a warm process that runs each call in a child forked for it.

Started by `SandboxPool` as `python -I worker.py '<settings json>'` (under
bubblewrap, unshare or another uid, see `isolation.py`); it imports only the
standard library and `wire.py` beside it. The worker itself never runs user code:

 1. it moves the protocol to private descriptors (fd 0 becomes /dev/null, fd 1 goes
    to stderr), makes itself undumpable (so no other process of its uid can open
    its descriptors through /proc) and a child sub-reaper (so every process a call
    starts, daemons included, is re-parented to it when its parent dies);
 2. per call it forks a child that closes every descriptor but the write end of a
    fresh result pipe, drops capabilities, applies the limits with equal soft and
    hard values (CPU, address space, file size, processes, no core), installs the
    socket guard, then compiles and calls the function and writes its reply;
 3. it reads at most `max_result_bytes` from the result pipe before the wall-clock
    deadline, then kills the child's process group and every remaining descendant,
    wipes the scratch directory, and answers the parent with the request's id and
    the child's raw reply bytes (the parent validates them).

So a call's result can only come from the child of that call: user code never
holds a descriptor of the protocol, and anything it leaves running dies before the
next call starts.
"""

from __future__ import annotations

import ctypes
import io
import json
import linecache
import math
import os
import resource
import select
import shutil
import signal
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # a sibling module, found through the path set just above

del sys.path[0]

_WORKER_FILE = os.path.abspath(__file__)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECUREBITS = 38, 28
_SECURE_ALL = 0x2F  # NOROOT, NOROOT_LOCKED, NO_SETUID_FIXUP(+LOCKED), KEEP_CAPS_LOCKED
_MS_REC, _MS_PRIVATE, _MS_NOSUID, _MS_NODEV = 0x4000, 1 << 18, 2, 4
_SYS_MOUNT_SETATTR, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = 442, 0x8000, 1
_SETTINGS: dict[str, Any] = {}
_LIBC: Any = None
_GUARD_ORIGINALS: list[tuple[Any, str, Any]] = []


class SandboxNetworkError(PermissionError):
    """Raised by every network entry point inside the sandbox."""


class CpuLimitExceeded(BaseException):
    """The call used more CPU time than allowed (raised from the SIGXCPU handler).

    A BaseException, so that user code's `except Exception` does not swallow it.
    """


def _on_sigxcpu(signum: int, frame: Any) -> None:
    raise CpuLimitExceeded("CPU time limit exceeded")


def _prctl(option: int, arg: int = 0) -> int:
    return int(_LIBC.prctl(option, arg, 0, 0, 0))


# -- worker set-up --------------------------------------------------------------------
def _private_mounts(scratch: str) -> str:
    """namespace level: remount everything read-only, private tmpfs on /tmp and /dev/shm."""
    libc = _LIBC
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return f"mount --make-rprivate failed (errno {ctypes.get_errno()})"
    for target in (b"/tmp", b"/dev/shm", b"/run", b"/var/tmp"):
        if os.path.isdir(target):
            libc.mount(b"tmpfs", target, b"tmpfs", _MS_NOSUID | _MS_NODEV, b"size=256m,mode=1777")

    class Attr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    attr = Attr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    # Read-only everywhere, then the scratch mounts back to writable.
    if libc.syscall(_SYS_MOUNT_SETATTR, -100, b"/", _AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
        return f"mount_setattr(read-only) failed (errno {ctypes.get_errno()})"
    back = Attr(0, _MOUNT_ATTR_RDONLY, 0, 0)
    for target in (b"/tmp", b"/dev/shm", b"/run", b"/var/tmp"):
        if os.path.isdir(target):
            libc.syscall(_SYS_MOUNT_SETATTR, -100, target, 0, ctypes.byref(back), ctypes.sizeof(back))
    os.makedirs(scratch, exist_ok=True)
    return ""


def _has_caps() -> bool:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16) != 0
    except OSError:
        pass
    return True


def _count_own_processes() -> int:
    uid, n = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


def _block_network() -> None:
    """Replace the socket module's entry points with functions that raise (a guard in Python)."""
    import _socket
    import socket

    def blocker(name: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            raise SandboxNetworkError(
                f"network access is disabled in the undertow sandbox ({name} was called); "
                "pass the data the code needs as arguments instead")
        blocked.__name__ = name.rsplit(".", 1)[-1]
        return blocked

    def blocked_class(name: str, base: type) -> type:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            blocker(name)()
        return type(base.__name__, (base,), {"__init__": __init__, "__module__": base.__module__})

    functions = ["create_connection", "create_server", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "getnameinfo", "socketpair", "fromfd", "fromshare"]
    for module in (socket, _socket):
        for name in ["socket", "SocketType", *functions]:
            original = getattr(module, name, None)
            if original is not None:
                _GUARD_ORIGINALS.append((module, name, original))
                label = f"{module.__name__}.{name}"
                setattr(module, name, blocked_class(label, original) if isinstance(original, type)
                        else blocker(label))


# -- the child ---------------------------------------------------------------------------
def _drop_privileges() -> None:
    """No new privileges, no capabilities (also in a user namespace), locked securebits."""
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    if not _SETTINGS.get("may_have_caps"):
        return
    _prctl(_PR_SET_SECUREBITS, _SECURE_ALL)

    _LIBC.capset(*_CAPSET_ARGS)  # empty effective/permitted/inheritable sets


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


_CAPSET_ARGS: tuple[Any, ...] = ()


def _prepare_capset() -> None:
    global _CAPSET_ARGS
    _CAPSET_ARGS = (ctypes.byref(_CapHeader(0x20080522, 0)), (ctypes.c_uint32 * 6)())
    _LIBC.prctl, _LIBC.capset, _LIBC.syscall  # noqa: B018 - resolve the symbols before forking


def _set_limits(request: dict[str, Any]) -> None:
    def hard(res: int, value: int) -> None:
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass
    hard(resource.RLIMIT_CORE, 0)
    s = _SETTINGS
    if s.get("memory_mb"):
        hard(resource.RLIMIT_AS, int(s["memory_mb"]) * 1024 * 1024)
    if s.get("file_mb"):
        hard(resource.RLIMIT_FSIZE, int(s["file_mb"]) * 1024 * 1024)
    if s.get("procs"):
        hard(resource.RLIMIT_NPROC, int(s["base_procs"]) + int(s["procs"]))
    cpu = request.get("cpu_seconds")
    if cpu is not None:
        soft = max(1, math.ceil(cpu))
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))  # hard: SIGKILL one second later


def _new_loop() -> Any:
    """An asyncio event loop, made with the real socket functions (the guard blocks them for user code)."""
    import asyncio

    blocked = [(module, name, getattr(module, name)) for module, name, _ in _GUARD_ORIGINALS]
    for module, name, original in _GUARD_ORIGINALS:
        setattr(module, name, original)
    try:
        return asyncio.new_event_loop()
    finally:
        for module, name, guard in blocked:
            setattr(module, name, guard)


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _error(kind: str, type_: str, message: str, filename: str) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": kind, "type": type_, "message": message, "filename": filename,
                                   "lineno": None, "line": None, "traceback": ""}}


def _child_reply(request: dict[str, Any]) -> dict[str, Any]:
    """Run the user's function (in the forked child) and describe the outcome as plain data."""
    filename = request["filename"]
    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    cpu0, t0 = _cpu_now(), time.perf_counter()
    stage = "syntax"
    reply: dict[str, Any]
    try:
        loop = None
        if "async" in request["source"]:
            loop = _new_loop()
        _set_limits(request)
        ns: dict[str, Any] = {"__name__": "__sandbox__", "__builtins__": __builtins__}
        preamble = request.get("preamble", "")
        if preamble:
            pre_name = f"{filename} (preamble)"
            linecache.cache[pre_name] = (len(preamble), None, preamble.splitlines(keepends=True), pre_name)
            exec(compile(preamble, pre_name, "exec"), ns)  # noqa: S102 - inside the sandbox
        source = request["source"]
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec"), ns)  # noqa: S102 - inside the sandbox
        fn = ns.get(request["function"])
        if fn is None:
            raise NameError(f"the code defines no function named {request['function']!r}")
        if not callable(fn):
            raise TypeError(f"{request['function']!r} in the code is a {type(fn).__name__}, not a function")
        stage = "exception"
        value = fn(*request["args"], **request["kwargs"])
        if hasattr(value, "__await__"):
            if loop is None:
                loop = _new_loop()
            value = loop.run_until_complete(value)
        problem = wire.plain_problem(value, "the result")
        reply = (_error("result", "NotPlainDataError", problem, filename) if problem is not None
                 else {"ok": True, "value": value})
    except CpuLimitExceeded as exc:
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "cpu", skip=_WORKER_FILE)}
        reply["error"]["message"] = f"the call used more than cpu_seconds={request.get('cpu_seconds'):g} of CPU time"
    except MemoryError as exc:
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "memory", skip=_WORKER_FILE)}
        if not reply["error"]["message"]:
            reply["error"]["message"] = ("out of memory: the call's address space is capped at "
                                         f"memory_mb={_SETTINGS.get('memory_mb')}")
    except SandboxNetworkError as exc:
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "network", skip=_WORKER_FILE)}
    except SyntaxError as exc:
        kind = "syntax" if stage == "syntax" else "exception"
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, kind, skip=_WORKER_FILE)}
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit included
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "exception", skip=_WORKER_FILE)}
    reply["stdout"] = wire.clip(out.getvalue())
    reply["stderr"] = wire.clip(err.getvalue())
    reply["cpu_s"] = _cpu_now() - cpu0
    reply["wall_s"] = time.perf_counter() - t0
    return reply


def _child(request_fd: int, write_fd: int) -> None:
    """The pre-forked child: isolate, wait for the request, run it, write the reply. Never returns."""
    try:
        os.setpgid(0, 0)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        for fd in [int(n) for n in os.listdir("/proc/self/fd")]:
            if fd > 2 and fd not in (request_fd, write_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        _drop_privileges()
        try:
            request = wire.loads(wire.read_exact(request_fd, wire.frame_length(wire.read_exact(request_fd, wire.HEADER_SIZE))))
        except EOFError:
            os._exit(0)
        os.close(request_fd)
        reply = _child_reply(request)
        try:
            frame = wire.encode_frame(reply)
        except BaseException as exc:  # noqa: BLE001 - e.g. a recursion error while pickling
            frame = wire.encode_frame(_error("result", type(exc).__name__, f"the result cannot be sent ({exc})",
                                             request["filename"]))
        view = memoryview(frame)
        while view:
            view = view[os.write(write_fd, view):]
        os._exit(0)
    except BaseException:  # noqa: BLE001
        os._exit(70)


# -- the worker ---------------------------------------------------------------------------
def _children() -> list[int]:
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _kill_descendants(first: int | None) -> int | None:
    """SIGKILL the call's process group and every process left under this worker.

    Returns the exit code of `first` (the call's child), once it is reaped (None when
    it was reaped before).
    """
    code: int | None = None
    if first is not None:
        try:
            os.killpg(first, signal.SIGKILL)
        except OSError:
            pass
        try:
            code = os.waitstatus_to_exitcode(os.waitpid(first, 0)[1])
        except ChildProcessError:
            pass
    if _SETTINGS.get("pid_namespace"):
        try:
            os.kill(-1, signal.SIGKILL)  # every other process of this PID namespace
        except OSError:
            pass
    for _ in range(1000):
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        kids = _children()
        if not kids:
            return code
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.0005)
    return code


def _wipe(scratch: str) -> None:
    for d in (scratch, "/dev/shm") if _SETTINGS.get("private_tmp") else (scratch,):
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    shutil.rmtree(e.path, ignore_errors=True)
                else:
                    os.unlink(e.path)
            except OSError:
                pass


class _Child:
    """A child forked ahead of its call (after the previous call was cleaned up)."""

    def __init__(self) -> None:
        req_r, self.req_w = os.pipe()
        self.res_r, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.req_w)
            os.close(self.res_r)
            _child(req_r, res_w)
        os.close(req_r)
        os.close(res_w)
        try:
            self.pidfd: int | None = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # Linux before 5.3: poll the child instead
            self.pidfd = None

    def exited(self) -> bool:
        if self.pidfd is not None:
            return bool(select.select([self.pidfd], [], [], 0)[0])
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except OSError:
            return True

    def alive(self) -> bool:
        return not self.exited()

    def discard(self) -> None:
        for fd in (self.req_w, self.res_r, self.pidfd):
            try:
                if fd is not None:
                    os.close(fd)
            except OSError:
                pass


def _run_call(request: dict[str, Any], child: _Child) -> tuple[dict[str, Any], int]:
    """Hand `request` to `child`, read its reply before the deadline, kill what it started."""
    r, pid, pidfd = child.res_r, child.pid, child.pidfd
    try:
        frame = wire.encode_frame(request)
        view = memoryview(frame)
        while view:
            view = view[os.write(child.req_w, view):]
    except OSError:
        pass  # the child died: seen below as a crash
    os.close(child.req_w)
    os.set_blocking(r, False)
    limit = int(_SETTINGS.get("max_result_bytes", 64 << 20)) + wire.HEADER_SIZE
    deadline = time.monotonic() + float(request.get("timeout_s") or 3600)
    buf, need, status, exited = bytearray(), wire.HEADER_SIZE, "", False
    while not status:
        left = deadline - time.monotonic()
        watch = [r] if pidfd is None else [r, pidfd]
        wait = left if pidfd is not None else min(left, 0.01)
        ready = select.select(watch, [], [], wait)[0] if left > 0 else []
        if pidfd is None and not ready and left > 0.01:
            if child.exited():
                ready = [r]
                exited = True
            else:
                continue
        if not ready:
            status = "timeout"
            break
        exited = exited or (pidfd is not None and pidfd in ready)
        while True:
            try:
                chunk = os.read(r, 1 << 20)
            except BlockingIOError:
                chunk = None
            if not chunk:
                if chunk == b"" or exited:
                    status = status or "crash"
                break
            buf += chunk
            if len(buf) >= wire.HEADER_SIZE and need == wire.HEADER_SIZE:
                need = wire.HEADER_SIZE + wire.frame_length(bytes(buf[:wire.HEADER_SIZE]))
                if need > limit:
                    status = "too_large"
                    break
            if len(buf) >= need > wire.HEADER_SIZE:
                status = "done"
                break
    # Everything the call started is signalled before the reply leaves; the rest of the
    # clean-up (reaping, re-parented daemons, scratch files) finishes before the next call.
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if _SETTINGS.get("pid_namespace"):
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    code = None
    if status == "crash":
        try:
            code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        except ChildProcessError:
            pass
    child.discard()
    body = bytes(buf[wire.HEADER_SIZE:need]) if status == "done" else b""
    return {"id": request.get("id"), "status": status, "exit": code, "body": body}, pid


def _clean_up(pid: int | None) -> None:
    _kill_descendants(pid)
    _wipe(_SETTINGS["scratch"])


def main() -> None:
    global _LIBC
    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    _SETTINGS.update(settings)
    _LIBC = ctypes.CDLL(None, use_errno=True)
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(_PR_SET_DUMPABLE, 0)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    notes = ""
    if settings.get("mount_private"):
        notes = _private_mounts(settings["scratch"])
    os.makedirs(settings["scratch"], exist_ok=True)
    os.chdir(settings["scratch"])
    import site
    for d in settings.get("site_dirs", []):
        if d not in sys.path and os.path.isdir(d):
            site.addsitedir(d)  # also runs its .pth files (editable installs)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _SETTINGS["base_procs"] = _count_own_processes()
    if settings.get("block_network", True):
        _block_network()  # once, here: every child inherits the guard (the worker opens no sockets)
    _SETTINGS["may_have_caps"] = _has_caps()
    # Set up once here, inherited by every child: signal handlers, ctypes entry points.
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write raises OSError instead
    _prepare_capset()
    for name in settings.get("preload", []):
        # Trusted modules the calls use (the pool's `preload`), imported once here so that
        # each call's forked child inherits them instead of importing them again.
        try:
            __import__(name)
        except Exception as exc:  # noqa: BLE001 - a call that needs it will report the error itself
            notes += f" preload {name!r} failed: {type(exc).__name__}: {exc};"
    import gc
    gc.collect()
    gc.freeze()  # children's collections skip the worker's objects: fewer copy-on-write faults
    os.set_inheritable(in_fd, False)
    os.set_inheritable(out_fd, False)
    out = os.fdopen(out_fd, "wb")
    child: _Child | None = None
    wire.write_frame(out, {"ready": True, "pid": os.getpid(), "uid": os.getuid(), "notes": notes,
                           "limits": {k: settings.get(k) for k in ("memory_mb", "file_mb", "procs")}})
    while True:
        try:
            header = wire.read_exact(in_fd, wire.HEADER_SIZE)
            request = wire.loads(wire.read_exact(in_fd, wire.frame_length(header)))
        except EOFError:
            break
        if request.get("op") == "exit":
            break
        if request.get("op") == "ping":
            out.write(wire.encode_frame({"id": request.get("id"), "status": "pong"}))
            out.flush()
            continue
        if child is None or not child.alive():
            if child is not None:
                child.discard()
                _kill_descendants(child.pid)
            child = _Child()
        reply, pid = _run_call(request, child)
        out.write(wire.encode_frame(reply))
        out.flush()
        _clean_up(pid)
        child = _Child()  # forked now, while the parent handles the reply
    _kill_descendants(None)


if __name__ == "__main__":
    main()
