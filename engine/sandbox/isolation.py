"""Isolation levels of the sandbox worker, strongest first, and how to start one.

- ``bubblewrap``: the worker runs under `bwrap` with new user, PID, network, IPC,
  UTS and mount namespaces, no capabilities, a clean environment, a read-only view
  of the Python installation and system libraries only (no home, no repository, no
  host sockets), a private tmpfs `/tmp` that is wiped after each call,
  `--die-with-parent` and `--new-session`.
- ``namespace``: the project's own namespaces through `unshare` (user, PID,
  network, IPC, UTS, mount); the worker itself remounts the filesystem read-only
  and mounts a private tmpfs on `/tmp`.
- ``uid``: when this process runs as root and no namespaces are available, each
  worker runs under a user id of its own (no host secrets readable by it, no
  signals to the host or to sibling workers).
- ``rlimits``: resource limits, the socket guard and process-group/sub-reaper
  cleanup only; the code can read what this user can read and signal this user's
  processes. The weakest level, reported as such.

`choose("auto")` picks the strongest level this machine allows (probed once and
cached); `available()` says, for each level, why it is or is not available.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("bubblewrap", "namespace", "uid", "rlimits")
MODES = ("auto", *LEVELS)
_PR_SET_PDEATHSIG = 1
_UID_BASE = 610_000  # per-worker user ids (uid level) are drawn above this
_uid_counter = itertools.count()


@dataclass(frozen=True)
class Isolation:
    """The level a pool runs at, and why no stronger one was used."""

    level: str
    reason: str = ""

    @property
    def pid_namespace(self) -> bool:
        return self.level in ("bubblewrap", "namespace")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """PR_SET_PDEATHSIG(SIGKILL): this process is killed when its parent thread exits."""
    _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _probe(argv: list[str], preexec: Callable[[], None] | None = None) -> str | None:
    """None when `argv` runs and exits 0, else a short reason."""
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False, preexec_fn=preexec,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{argv[0]} could not start ({exc})"
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{Path(argv[0]).name} failed ({err[-1] if err else f'exit {done.returncode}'})"
    return None


def interpreter_for(uid: int | None) -> str | None:
    """A Python of this version that `uid` can run (this one, or the system's same version)."""
    candidates = [sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"]
    for exe in candidates:
        if not os.path.exists(exe):
            continue
        if uid is None or _probe([exe, "-I", "-c", "import json, asyncio"], _as_user(uid)) is None:
            return exe
    return None


def _as_user(uid: int) -> Callable[[], None]:
    def drop() -> None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return drop


def read_only_paths() -> list[str]:
    """What a bubblewrap worker sees (read-only): system libraries and the Python install."""
    paths = {"/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/localtime"}
    for p in (sys.base_prefix, sys.prefix, sysconfig.get_paths()["stdlib"], os.path.dirname(__file__)):
        paths.add(os.path.realpath(p))
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    root = os.geteuid() == 0  # workers then run under other uids: bind what those can reach
    return sorted(p for p in paths if os.path.lexists(p) and (not root or _world_reachable(p)))


def _world_reachable(path: str) -> bool:
    """Whether a uid with no special rights can reach `path` (every parent searchable by others)."""
    parts = os.path.abspath(path).split(os.sep)
    for i in range(2, len(parts)):
        try:
            if not os.stat(os.sep.join(parts[:i]) or os.sep).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def bwrap_argv(bwrap: str, extra_read_only: tuple[str, ...] = ()) -> list[str]:
    """The bubblewrap command prefix (everything before the worker's own command)."""
    argv = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    root = os.geteuid() == 0
    extra = [os.path.realpath(p) for p in extra_read_only if not root or _world_reachable(p)]
    for p in [*read_only_paths(), *extra]:
        if os.path.islink(p) and not os.path.isabs(os.readlink(p)):
            argv += ["--symlink", os.readlink(p), p]
        else:  # -try: a path the worker's uid cannot reach is left out
            argv += ["--ro-bind-try", p, p]
    return argv


def unshare_argv(unshare: str) -> list[str]:
    return [unshare, "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
            "--net", "--ipc", "--uts"]


@functools.lru_cache(maxsize=1)
def interpreter_for_others() -> str | None:
    """`interpreter_for` a worker uid (they all share one class of access: none), probed once."""
    return interpreter_for(_UID_BASE)


@functools.lru_cache(maxsize=None)
def _why_not(level: str) -> str | None:
    """None when `level` works here, else why not (probed once)."""
    probe_code = "import json, asyncio, os; os.getpid()"
    if level == "rlimits":
        return None
    # As root, every level runs its workers under uids of their own (see `worker_uid`).
    uid = _UID_BASE if os.geteuid() == 0 else None
    python = interpreter_for_others() if uid is not None else sys.executable
    if level in ("bubblewrap", "namespace") and python is None:
        return "no Python of this version is readable by another user id"
    drop = _as_user(uid) if uid is not None else None
    if level == "bubblewrap":
        exe = shutil.which("bwrap")
        if exe is None:
            return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
        return _probe([*bwrap_argv(exe), str(python), "-I", "-c", probe_code], drop)
    if level == "namespace":
        exe = shutil.which("unshare")
        if exe is None:
            return "util-linux `unshare` is not installed"
        return _probe([*unshare_argv(exe), str(python), "-I", "-c", probe_code], drop)
    if level == "uid":
        if os.geteuid() != 0:
            return "needs root to run workers under user ids of their own"
        if interpreter_for_others() is None:
            return "no Python of this version is readable by another user id"
        return None
    raise ValueError(level)


def available() -> dict[str, str | None]:
    """{level: None if available here, else the reason it is not}."""
    return {level: _why_not(level) for level in LEVELS}


def choose(mode: str = "auto") -> Isolation:
    """The isolation for `mode`: a level by name (error if unavailable) or the strongest ("auto")."""
    if mode not in MODES:
        raise ValueError(f"isolation={mode!r} is not one of {', '.join(MODES)}")
    if mode != "auto":
        why = _why_not(mode)
        if why is not None:
            raise RuntimeError(f"isolation={mode!r} is not available here: {why}; "
                               "use isolation='auto' to take the strongest available level")
        return Isolation(mode)
    skipped = []
    for level in LEVELS:
        why = _why_not(level)
        if why is None:
            return Isolation(level, "; ".join(skipped))
        skipped.append(f"{level}: {why}")
    raise AssertionError("rlimits is always available")


def worker_uid(isolation: Isolation) -> int | None:
    """The uid a new worker runs under: its own when this process is root, else None (ours).

    As root, a worker that kept uid 0 would be exempt from RLIMIT_NPROC and own every
    root file it can see, so every level but "rlimits" drops to a uid of the worker's own.
    """
    if isolation.level == "rlimits":
        return None  # rlimits only: the weakest level keeps this process's uid
    return new_worker_uid() if os.geteuid() == 0 else None


def new_worker_uid() -> int:
    """A fresh user id for one worker (distinct per worker of this process)."""
    return _UID_BASE + (os.getpid() % 4096) * 256 + next(_uid_counter) % 256


def worker_command(isolation: Isolation, worker_file: str, settings_json: str, uid: int | None,
                   env: dict[str, str], read_only: tuple[str, ...] = ()) -> tuple[list[str], Callable[[], None]]:
    """argv and preexec function that start one worker at `isolation` with environment `env`."""
    level = isolation.level
    python = (interpreter_for_others() if uid is not None else None) or sys.executable
    if level == "bubblewrap":
        prefix = bwrap_argv(shutil.which("bwrap") or "bwrap", read_only)
        for key, value in env.items():  # bwrap starts from an empty environment
            prefix += ["--setenv", key, value]
    elif level == "namespace":
        prefix = unshare_argv(shutil.which("unshare") or "unshare")
    else:
        prefix = []

    def preexec() -> None:
        if uid is not None:
            _as_user(uid)()
        die_with_parent()  # after the uid change, which would clear it

    return [*prefix, python, "-I", worker_file, settings_json], preexec


# -- starting processes from one long-lived thread ------------------------------------
# PR_SET_PDEATHSIG fires when the *thread* that started a child exits; workers are
# therefore started from one daemon thread that lives as long as the process.
_spawn_lock = threading.Lock()
_spawn_queue: list[tuple[Callable[[], object], list[object], threading.Event]] = []
_spawn_cv = threading.Condition(_spawn_lock)
_spawner: threading.Thread | None = None
_spawner_pid = 0


def _spawn_loop() -> None:
    while True:
        with _spawn_cv:
            while not _spawn_queue:
                _spawn_cv.wait()
            fn, box, done = _spawn_queue.pop(0)
        try:
            box.append(("ok", fn()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            box.append(("err", exc))
        done.set()


def spawn(fn: Callable[[], object]) -> object:
    """Run `fn` (which starts a process) on the process-wide spawner thread; return its value."""
    global _spawner, _spawner_pid
    with _spawn_cv:
        if _spawner is None or _spawner_pid != os.getpid() or not _spawner.is_alive():
            _spawn_queue.clear()
            _spawner = threading.Thread(target=_spawn_loop, name="undertow-sandbox-spawner", daemon=True)
            _spawner_pid = os.getpid()
            _spawner.start()
        box: list[object] = []
        done = threading.Event()
        _spawn_queue.append((fn, box, done))
        _spawn_cv.notify()
    done.wait()
    status, value = box[0]  # type: ignore[misc]
    if status == "err":
        raise value  # type: ignore[misc]
    return value


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is `uid` (the uid level's cleanup); how many."""
    killed = 0
    for _ in range(50):
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/status", "rb") as f:
                    for line in f:
                        if line.startswith(b"Uid:"):
                            if int(line.split()[1]) == uid:
                                found.append(int(entry.name))
                            break
            except (OSError, ValueError):
                continue
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed
