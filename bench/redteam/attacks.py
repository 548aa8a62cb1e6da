"""The red-team suite: attacks on `SandboxPool`, each judged on the host side.

Each `Attack` runs hostile code through a pool (or drives a pool in a small
sub-host process, when the target is the host process itself) and returns one of:

- ``blocked``: the harmful effect did not happen;
- ``works``: it did (the attack succeeded);
- ``not attempted``: running it at this level would harm this machine beyond the
  test (e.g. `kill(-1)` as root without a PID namespace); it counts as ``works``.

`defended_at` lists the isolation levels that claim to stop the attack; the tests
in tests/security fail when one of those levels lets it through, and skip (with the
reason) at the levels that make no such claim. `undertow sandbox check` runs them
all at the active level and prints the table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from undertow.bench.redteam.bait import Bait
from undertow.engine.sandbox import SandboxPool, SandboxResult
from undertow.engine.sandbox import wire

ALL = ("bubblewrap", "namespace", "uid", "rlimits")
NS = ("bubblewrap", "namespace")
ISOLATED = ("bubblewrap", "namespace", "uid")


@dataclass(frozen=True)
class Attack:
    """One attack: hostile `code` (defines `attack(ctx)`) or a `drive` function, and a verdict."""

    name: str
    category: str
    description: str
    defended_at: tuple[str, ...]
    code: str = ""
    verdict: Callable[[SandboxResult, Bait], bool] | None = None  # True: the attack worked
    drive: Callable[[SandboxPool, Bait, str], bool] | None = None  # True: the attack worked
    unsafe_at: tuple[str, ...] = ()

    def run(self, pool: SandboxPool, bait: Bait) -> str:
        level = pool.level
        if level in self.unsafe_at:
            return "not attempted"
        if self.drive is not None:
            worked = self.drive(pool, bait, level)
        else:
            res = pool.run(self.code, "attack", [bait.context()])
            assert self.verdict is not None
            worked = self.verdict(res, bait)
        return "works" if worked else "blocked"


def _returned(res: SandboxResult, bait: Bait) -> bool:
    """The attack returned the secret (or something containing it)."""
    return res.ok and bait.secret in repr(res.value)


def _truthy(res: SandboxResult, bait: Bait) -> bool:
    return res.ok and bool(res.value)


def _wrote(name: str) -> Callable[[SandboxResult, Bait], bool]:
    def check(res: SandboxResult, bait: Bait) -> bool:
        return os.path.exists(os.path.join(bait.write_dir, name))
    return check


def _hit(kind: str) -> Callable[[SandboxResult, Bait], bool]:
    def check(res: SandboxResult, bait: Bait) -> bool:
        time.sleep(0.2)
        return bait.hits[kind] > 0
    return check


def _sibling_hurt(res: SandboxResult, bait: Bait) -> bool:
    time.sleep(0.2)
    return not bait.sibling_alive()


def _failed_as(*kinds: str) -> Callable[[SandboxResult, Bait], bool]:
    """The attack is blocked when the call failed with one of `kinds` (else it worked)."""
    def check(res: SandboxResult, bait: Bait) -> bool:
        return res.ok or res.error is None or res.error.kind not in kinds
    return check


# -- multi-step attacks (driven from the host) ----------------------------------------------
DOUBLE = "def attack(x):\n    return x * 2\n"


def _healthy(pool: SandboxPool) -> bool:
    return all(pool.run(DOUBLE, "attack", [i]).value == 2 * i for i in range(3))


def _forge_frames(pool: SandboxPool, bait: Bait, level: str) -> bool:
    # Write forged replies (for the next request ids) on every descriptor the call can open.
    forged = (
        "import os, pickle, struct\n"
        "def attack(x):\n"
        "    for fd in range(3, 256):\n"
        "        for rid in range(0, 200):\n"
        "            body = pickle.dumps({'id': rid, 'status': 'done', 'exit': 0, 'body': pickle.dumps({'ok': True, 'value': 'FORGED'})})\n"
        "            try:\n"
        "                os.write(fd, struct.pack('!Q', len(body)) + body)\n"
        "            except OSError:\n"
        "                break\n"
        "    return 'sent'\n")
    pool.run(forged, "attack", [0])
    results = [pool.run(DOUBLE, "attack", [i]) for i in range(6)]
    return any(r.value == "FORGED" for r in results) or not all(r.value == 2 * i for i, r in enumerate(results))


def _steal_requests(pool: SandboxPool, bait: Bait, level: str) -> bool:
    # A thread left behind reads whatever arrives on any readable descriptor.
    thief = (
        "import os, threading, time\n"
        "def attack(x):\n"
        "    def read(fd):\n"
        "        try:\n"
        "            while True:\n"
        "                os.read(fd, 1 << 16)\n"
        "        except OSError:\n"
        "            pass\n"
        "    for fd in range(0, 64):\n"
        "        threading.Thread(target=read, args=(fd,), daemon=True).start()\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.setsid()\n"
        "        for fd in range(0, 64):\n"
        "            threading.Thread(target=read, args=(fd,), daemon=True).start()\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    return 'waiting'\n")
    pool.run(thief, "attack", [0])
    return not _healthy(pool)


def _parent_fds(pool: SandboxPool, bait: Bait, level: str) -> bool:
    # Open the worker's (parent's) descriptors through /proc and write a forged reply there.
    code = (
        "import os, pickle, struct\n"
        "def attack(x):\n"
        "    opened = 0\n"
        "    for pid in {os.getppid()}:\n"
        "        try:\n"
        "            names = os.listdir(f'/proc/{pid}/fd')\n"
        "        except OSError:\n"
        "            continue\n"
        "        for name in names:\n"
        "            try:\n"
        "                fd = os.open(f'/proc/{pid}/fd/{name}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "            except OSError:\n"
        "                continue\n"
        "            opened += 1\n"
        "            for rid in range(200):\n"
        "                body = pickle.dumps({'id': rid, 'status': 'done', 'exit': 0, 'body': pickle.dumps({'ok': True, 'value': 'FORGED'})})\n"
        "                try:\n"
        "                    os.write(fd, struct.pack('!Q', len(body)) + body)\n"
        "                except OSError:\n"
        "                    break\n"
        "    return opened\n")
    pool.run(code, "attack", [0])
    results = [pool.run(DOUBLE, "attack", [i]) for i in range(4)]
    return not all(r.value == 2 * i for i, r in enumerate(results))


def _persist_in_memory(pool: SandboxPool, bait: Bait, level: str) -> bool:
    # Call A patches builtins and the wire module; call B must not see it.
    patch = ("import builtins, sys\n"
             "def attack(x):\n"
             "    builtins.len = lambda s: 42\n"
             "    builtins.UNDERTOW_MARK = 1\n"
             "    for m in list(sys.modules.values()):\n"
             "        if getattr(m, '__name__', '') == 'wire':\n"
             "            m.plain_problem = lambda *a, **k: None\n"
             "    return 1\n")
    for _ in range(pool.workers):
        pool.run(patch, "attack", [0])
    probe = "import builtins\ndef attack(x):\n    return [hasattr(builtins, 'UNDERTOW_MARK'), len('ab')]\n"
    return any(pool.run(probe, "attack", [0]).value != [False, 2] for _ in range(pool.workers * 2))


def _scratch_persists(pool: SandboxPool, bait: Bait, level: str) -> bool:
    write = ("import os, tempfile\n"
             "def attack(nonce):\n"
             "    for d in {os.getcwd(), tempfile.gettempdir(), os.path.expanduser('~'), '/dev/shm'}:\n"
             "        try:\n"
             "            open(os.path.join(d, 'left-' + nonce), 'w').write('x')\n"
             "        except OSError:\n"
             "            pass\n"
             "    return 1\n")
    read = ("import os, tempfile\n"
            "def attack(nonce):\n"
            "    return [d for d in {os.getcwd(), tempfile.gettempdir(), os.path.expanduser('~'), '/dev/shm'}\n"
            "            if os.path.exists(os.path.join(d, 'left-' + nonce))]\n")
    for _ in range(pool.workers):
        pool.run(write, "attack", [bait.nonce])
    seen = any(pool.run(read, "attack", [bait.nonce]).value for _ in range(pool.workers * 2))
    for d in ("/dev/shm", "/tmp"):  # what a weak level let it leave on this machine
        try:
            os.remove(os.path.join(d, "left-" + bait.nonce))
        except OSError:
            pass
    return seen


def _daemon_code(name: str) -> str:
    return (
        "import ctypes, os, time\n"
        "def attack(x):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            ctypes.CDLL(None).prctl(15, b'{name}', 0, 0, 0)\n"
        "            time.sleep(60)\n"
        "        os._exit(0)\n"
        "    time.sleep(0.3)\n"
        "    return 'daemon started'\n")


def _named_alive(name: str) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        with open(f"/proc/{entry}/stat") as s:
                            if s.read().rsplit(")", 1)[1].split()[0] != "Z":
                                return True
            except OSError:
                continue
    return False


def _daemon_outlives_call(pool: SandboxPool, bait: Bait, level: str) -> bool:
    name = f"utw{bait.nonce[:10]}"
    pool.run(_daemon_code(name), "attack", [0])
    pool.run(DOUBLE, "attack", [1])  # the clean-up finishes before the next call starts
    time.sleep(0.3)
    return _named_alive(name)


def _daemon_outlives_close(pool: SandboxPool, bait: Bait, level: str) -> bool:
    name = f"utx{bait.nonce[:10]}"
    with SandboxPool(workers=1, isolation=level) as own:
        own.run(_daemon_code(name), "attack", [0])
    time.sleep(0.5)
    return _named_alive(name)


_SUBHOST = """
import json, sys, time
from undertow.engine.sandbox import SandboxPool
level, code, ctx = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with SandboxPool(workers=1, isolation=level, timeout_s=10) as pool:
    try:
        res = pool.run(code, "attack", [ctx])
        print("RESULT", repr(res.value)[:100000], flush=True)
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(3)
    ok = pool.run("def attack(x):\\n    return x + 1\\n", "attack", [1]).value == 2
print("ALIVE" if ok else "BROKEN", flush=True)
"""


def _in_subhost(code: str, *, steals: bool = False) -> Callable[[SandboxPool, Bait, str], bool]:
    """Run `code` through a pool owned by a separate host process, whose environment holds
    the secret from its start (as an API key would); worked if that host was hurt or, with
    `steals`, if the secret came back."""
    def drive(pool: SandboxPool, bait: Bait, level: str) -> bool:
        env = {**os.environ, "UNDERTOW_BAIT_API_KEY": bait.secret}
        ctx = {**bait.context(), "host_pid": None}
        proc = subprocess.Popen([sys.executable, "-c", _SUBHOST, level, code, json.dumps(ctx)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            return True  # frozen
        if steals:
            return bait.secret.encode() in out
        return proc.returncode != 0 or b"ALIVE" not in out
    return drive


_ANCESTORS = (
    "import os\n"
    "def ancestors():\n"
    "    pids, pid = [], os.getppid()\n"
    "    while pid > 1 and len(pids) < 2:  # the worker and the pool's owner, no further\n"
    "        pids.append(pid)\n"
    "        try:\n"
    "            status = open(f'/proc/{pid}/status').read()\n"
    "        except OSError:\n"
    "            break\n"
    "        pid = int(status.split('PPid:')[1].split()[0])\n"
    "    return pids\n")


def _kill_other_worker(pool: SandboxPool, bait: Bait, level: str) -> bool:
    code = ("import os, signal\n"
            "def attack(x):\n"
            "    me, killed = os.getpid(), 0\n"
            "    for entry in os.listdir('/proc'):\n"
            "        if entry.isdigit() and int(entry) not in (me, os.getppid()):\n"
            "            try:\n"
            "                if b'worker.py' in open(f'/proc/{entry}/cmdline', 'rb').read():\n"
            "                    os.kill(int(entry), signal.SIGKILL)\n"
            "                    killed += 1\n"
            "            except OSError:\n"
            "                pass\n"
            "    return killed\n")
    with SandboxPool(workers=2, isolation=level) as own:
        own.start()
        before = own.worker_pids()
        res = own.run(code, "attack", [0])
        time.sleep(0.2)
        others = [pid for pid in before if pid != res.worker_pid]
        return any(not _named_pid_alive(pid) for pid in others)


def _named_pid_alive(pid: int | None) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


_MRO = (  # the socket trick: some class in socket.socket.__mro__ is the unpatched C type
    "import socket\n"
    "def _unguarded(*args):\n"
    "    err = None\n"
    "    for cls in socket.socket.__mro__[1:-1]:\n"
    "        try:\n"
    "            return cls(*args)\n"
    "        except Exception as exc:\n"
    "            err = exc\n"
    "    raise err\n")


def _nested_result(depth: int) -> str:
    return f"def attack(x):\n    v = []\n    for _ in range({depth}):\n        v = [v]\n    return v\n"


def _huge_result(pool: SandboxPool, bait: Bait, level: str) -> bool:
    res = pool.run("def attack(x):\n    return 'x' * (80 * 1024 * 1024)\n", "attack", [0])
    return res.ok or not _healthy(pool)


def _deep_result(pool: SandboxPool, bait: Bait, level: str) -> bool:
    res = pool.run(_nested_result(100_000), "attack", [0])
    return res.ok or not _healthy(pool)


def _shared_result(pool: SandboxPool, bait: Bait, level: str) -> bool:
    from undertow.engine.views import short, to_dot
    from undertow.engine.node import Node

    res = pool.run("def attack(x):\n    a = []\n    for _ in range(150):\n        a = [a, a]\n    return a\n",
                   "attack", [0])
    if res.ok:  # the host previews it without walking 2**150 leaves
        short(res.value)
        to_dot(Node(res.value))
    return not _healthy(pool)


def _cyclic_result(pool: SandboxPool, bait: Bait, level: str) -> bool:
    from undertow.engine.views import short

    res = pool.run("def attack(x):\n    a = [1]\n    a.append(a)\n    d = {}\n    d['d'] = d\n    return [a, d]\n",
                   "attack", [0])
    if res.ok:
        short(res.value)
    return not _healthy(pool)


def _pickle_frame(pool: SandboxPool, bait: Bait, level: str) -> bool:
    # Write a crafted pickle (os.system on load) as this call's own reply, then exit.
    target = os.path.join(bait.write_dir, "pickle-ran")
    code = (
        "import os, struct\n"
        "def attack(x):\n"
        f"    cmd = b'touch {target}'\n"
        "    body = b'cposix\\nsystem\\n(' + b'\\x43' + bytes([len(cmd)]) + cmd + b'tR.'\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            os.write(fd, struct.pack('!Q', len(body)) + body)\n"
        "        except OSError:\n"
        "            pass\n"
        "    os._exit(0)\n")
    res = pool.run(code, "attack", [0])
    time.sleep(0.2)
    return os.path.exists(target) or res.ok


def _pickle_object_result(pool: SandboxPool, bait: Bait, level: str) -> bool:
    target = os.path.join(bait.write_dir, "reduce-ran")
    code = ("import os\n"
            "class Evil:\n"
            "    def __reduce__(self):\n"
            f"        return (os.system, ('touch {target}',))\n"
            "def attack(x):\n"
            "    return Evil()\n")
    res = pool.run(code, "attack", [0])
    return os.path.exists(target) or res.ok


def _pickle_argument(pool: SandboxPool, bait: Bait, level: str) -> bool:
    # The host refuses to send anything but plain data, so nothing can be smuggled in either.
    class Sneaky:
        def __reduce__(self) -> Any:
            return (print, ("smuggled",))
    try:
        pool.run(DOUBLE, "attack", [Sneaky()])
    except TypeError:
        return False
    return True


def _wire_reader_refuses(pool: SandboxPool, bait: Bait, level: str) -> bool:
    import pickle

    try:
        wire.loads(b"cposix\nsystem\n(S'true'\ntR.")
    except pickle.UnpicklingError:
        return False
    return True


ATTACKS: list[Attack] = [
    # -- files -------------------------------------------------------------------------------------
    Attack("read_world_readable_secret", "files", "read a world-readable credentials file of the host", NS,
           "def attack(ctx):\n    return open(ctx['secret_file']).read()\n", _returned),
    Attack("read_private_secret", "files", "read a 0600 file of the host user", ISOLATED,
           "def attack(ctx):\n    return open(ctx['private_file']).read()\n", _returned),
    Attack("read_etc_shadow", "files", "read /etc/shadow", ISOLATED,
           "def attack(ctx):\n    return open('/etc/shadow').read()[:40]\n", _failed_as("exception")),
    Attack("read_repository", "files", "read the undertow source tree", ("bubblewrap",),
           "def attack(ctx):\n    return open(ctx['repo_file']).read()[:100]\n", _truthy),
    Attack("write_host_directory", "files", "write into a world-writable host directory", NS,
           "def attack(ctx):\n    open(ctx['write_dir'] + '/pwned', 'w').write('x')\n    return 1\n", _wrote("pwned")),
    Attack("os_system_writes_host", "files", "os.system a shell that writes into the host", NS,
           "import os\ndef attack(ctx):\n    return os.system('touch ' + ctx['write_dir'] + '/shell')\n", _wrote("shell")),
    Attack("symlink_to_secret", "files", "symlink the secret into scratch, then read it", NS,
           "import os\ndef attack(ctx):\n    os.symlink(ctx['secret_file'], 'link')\n    return open('link').read()\n",
           _returned),
    Attack("scratch_shared_between_calls", "files", "leave files in cwd/TMPDIR/HOME/dev-shm for the next call",
           NS, drive=_scratch_persists),
    Attack("fill_the_disk", "cpu and memory", "write a file larger than file_mb", ALL,
           "def attack(ctx):\n    with open('big', 'wb') as f:\n        for _ in range(100):\n"
           "            f.write(b'x' * (1 << 20))\n    return 'wrote 100 MB'\n", _failed_as("exception")),
    # -- environment and /proc -----------------------------------------------------------------
    Attack("environment_secret", "env", "find the host's API key in os.environ", ALL,
           drive=_in_subhost("import os\ndef attack(ctx):\n    return dict(os.environ)\n", steals=True)),
    Attack("proc_host_environ", "/proc", "read /proc/<host>/environ (the host's API key)", ISOLATED,
           drive=_in_subhost(_ANCESTORS + "def attack(ctx):\n    return open(f'/proc/{ancestors()[-1]}/environ', 'rb')"
                             ".read().decode()\n", steals=True)),
    Attack("proc_ancestors_environ", "/proc", "read the environ of every ancestor", ISOLATED,
           drive=_in_subhost(_ANCESTORS + "def attack(ctx):\n    out = []\n    for pid in ancestors():\n        try:\n"
                             "            out.append(open(f'/proc/{pid}/environ', 'rb').read().decode())\n"
                             "        except OSError:\n            pass\n    return out\n", steals=True)),
    Attack("proc_scan_environ", "/proc", "scan every /proc/*/environ for secrets", ISOLATED,
           drive=_in_subhost("import os\ndef attack(ctx):\n    found = []\n    for e in os.listdir('/proc'):\n"
                             "        if e.isdigit():\n            try:\n"
                             "                found.append(open(f'/proc/{e}/environ', 'rb').read().decode())\n"
                             "            except OSError:\n                pass\n    return found\n", steals=True)),
    Attack("proc_host_fd", "/proc", "read a secret through the host's open descriptor (/proc/<host>/fd)", ISOLATED,
           "def attack(ctx):\n    return open(f\"/proc/{ctx['host_pid']}/fd/{ctx['held_fd']}\").read()\n", _returned),
    Attack("proc_host_mem", "/proc", "read the host's memory (/proc/<host>/mem)", ISOLATED,
           "def attack(ctx):\n    maps = open(f\"/proc/{ctx['host_pid']}/maps\").readline()\n"
           "    start = int(maps.split('-')[0], 16)\n    f = open(f\"/proc/{ctx['host_pid']}/mem\", 'rb')\n"
           "    f.seek(start)\n    return len(f.read(16))\n", _truthy),
    Attack("proc_parent_fds", "pipes", "open the worker's protocol pipes via /proc/<ppid>/fd and forge replies",
           ALL, drive=_parent_fds),
    # -- signals -----------------------------------------------------------------------------------
    Attack("sigkill_host", "signals", "SIGKILL every ancestor (the host included)", ISOLATED,
           drive=_in_subhost(_ANCESTORS + "import signal\ndef attack(ctx):\n    for pid in ancestors()[::-1]:\n"
                             "        os.kill(pid, signal.SIGKILL)\n")),
    Attack("sigint_host", "signals", "SIGINT the host (KeyboardInterrupt there)", ISOLATED,
           drive=_in_subhost(_ANCESTORS + "import signal, time\ndef attack(ctx):\n    for pid in ancestors()[1:]:\n"
                             "        os.kill(pid, signal.SIGINT)\n    time.sleep(0.5)\n")),
    Attack("sigstop_host", "signals", "SIGSTOP the host (then nothing enforces the timeout)", ISOLATED,
           drive=_in_subhost(_ANCESTORS + "import signal\ndef attack(ctx):\n    for pid in ancestors()[1:]:\n"
                             "        os.kill(pid, signal.SIGSTOP)\n")),
    Attack("kill_sibling_process", "signals", "SIGKILL another process of the host user", ISOLATED,
           "import os\ndef attack(ctx):\n    os.kill(ctx['sibling_pid'], 9)\n", _sibling_hurt),
    Attack("sigstop_sibling_process", "signals", "SIGSTOP another process of the host user", ISOLATED,
           "import os\ndef attack(ctx):\n    os.kill(ctx['sibling_pid'], 19)\n", _sibling_hurt),
    Attack("kill_every_process", "signals", "kill(-1, SIGKILL): every process the code may signal", ISOLATED,
           "import os\ndef attack(ctx):\n    os.kill(-1, 9)\n", _sibling_hurt, unsafe_at=("rlimits",)),
    Attack("kill_sibling_worker", "signals", "kill the pool's other worker", ISOLATED, drive=_kill_other_worker),
    Attack("ptrace_sibling", "signals", "ptrace-attach to another process of the host user", ISOLATED,
           "import ctypes\ndef attack(ctx):\n    libc = ctypes.CDLL(None)\n"
           "    ok = libc.ptrace(16, ctx['sibling_pid'], 0, 0) == 0\n    if ok:\n"
           "        libc.ptrace(17, ctx['sibling_pid'], 0, 0)\n    return ok\n", _truthy),
    # -- forks, daemons, threads ---------------------------------------------------------------
    Attack("fork_bomb", "forks", "start 200 processes (RLIMIT_NPROC; root is exempt at the rlimits level)", ISOLATED,
           "import os, time\ndef attack(ctx):\n    n = 0\n    for _ in range(200):\n        try:\n"
           "            if os.fork() == 0:\n                time.sleep(30)\n                os._exit(0)\n"
           "            n += 1\n        except OSError:\n            break\n    return n\n",
           lambda res, bait: res.ok and res.value > 64),
    Attack("daemon_outlives_call", "forks", "double-fork + setsid daemon still alive after the call", ALL,
           drive=_daemon_outlives_call),
    Attack("daemon_outlives_close", "forks", "daemon still alive after the pool is closed", ALL,
           drive=_daemon_outlives_close),
    Attack("thread_steals_requests", "threads", "threads and a daemon left reading every descriptor", ALL,
           drive=_steal_requests),
    Attack("state_leaks_between_calls", "threads", "patch builtins/modules so later calls change", ALL,
           drive=_persist_in_memory),
    # -- sockets -----------------------------------------------------------------------------------
    Attack("tcp_connect_host", "sockets", "TCP connect to a host service on 127.0.0.1", ALL,
           "import socket\ndef attack(ctx):\n    socket.create_connection(('127.0.0.1', ctx['tcp_port']), timeout=2)\n",
           _hit("tcp")),
    Attack("mro_socket_tcp", "sockets", "TCP through the class in socket.socket.__mro__ (around the guard)", NS,
           _MRO + "def attack(ctx):\n    s = _unguarded(socket.AF_INET, socket.SOCK_STREAM)\n"
           "    s.settimeout(2)\n    s.connect(('127.0.0.1', ctx['tcp_port']))\n", _hit("tcp")),
    Attack("mro_socket_unix_path", "sockets", "connect to a host unix socket file via the __mro__ class",
           ("bubblewrap",), _MRO + "def attack(ctx):\n"
           "    s = _unguarded(socket.AF_UNIX, socket.SOCK_STREAM)\n    s.connect(ctx['unix_path'])\n", _hit("unix")),
    Attack("mro_socket_unix_abstract", "sockets", "connect to a host abstract unix socket", NS,
           _MRO + "def attack(ctx):\n"
           "    s = _unguarded(socket.AF_UNIX, socket.SOCK_STREAM)\n    s.connect('\\0' + ctx['abstract_name'])\n", _hit("abstract")),
    Attack("ctypes_socket_tcp", "sockets", "TCP via libc socket()/connect() through ctypes", NS,
           "import ctypes, socket, struct\ndef attack(ctx):\n    libc = ctypes.CDLL(None)\n"
           "    fd = libc.socket(2, 1, 0)\n"
           "    addr = struct.pack('=H', 2) + struct.pack('!H', ctx['tcp_port']) + bytes([127, 0, 0, 1]) + bytes(8)\n"
           "    return libc.connect(fd, addr, len(addr))\n", _hit("tcp")),
    Attack("udp_send_host", "sockets", "send a UDP datagram to the host via the __mro__ class", NS,
           _MRO + "def attack(ctx):\n    s = _unguarded(socket.AF_INET, socket.SOCK_DGRAM)\n"
           "    s.sendto(b'x', ('127.0.0.1', ctx['udp_port']))\n", _hit("udp")),
    Attack("raw_packet_socket", "sockets", "open an AF_PACKET raw socket (sniff the host's traffic)", ALL,
           _MRO + "def attack(ctx):\n    _unguarded(17, socket.SOCK_RAW, 0)\n    return 1\n",
           _truthy),
    Attack("netlink_socket_routes", "sockets", "open a netlink socket and list the host's interfaces", NS,
           "import socket\ndef attack(ctx):\n    return [n for _, n in socket.if_nameindex() if n != 'lo']\n", _truthy),
    Attack("dns_lookup", "sockets", "resolve a name (guarded entry point)", ALL,
           "import socket\ndef attack(ctx):\n    return socket.getaddrinfo('localhost', 80)\n", _truthy),
    # -- pipes and descriptors -----------------------------------------------------------------
    Attack("forge_frames_on_every_fd", "pipes", "write forged replies on every open descriptor", ALL,
           drive=_forge_frames),
    Attack("inherited_descriptors", "pipes", "find descriptors of the host or worker beyond the call's own", ALL,
           "import os\ndef attack(ctx):\n    return sorted(int(f) for f in os.listdir('/proc/self/fd') if int(f) > 2)\n",
           lambda res, bait: res.ok and len(res.value) > 2),  # its reply pipe and listdir's own
    Attack("crafted_pickle_reply", "pickling", "send a pickle that runs os.system when loaded", ALL,
           drive=_pickle_frame),
    Attack("reduce_object_result", "pickling", "return an object whose __reduce__ runs code", ALL,
           drive=_pickle_object_result),
    Attack("pickle_argument", "pickling", "smuggle a __reduce__ object in as an argument", ALL,
           drive=_pickle_argument),
    Attack("unpickler_globals", "pickling", "the reader resolves a global (posix.system)", ALL,
           drive=_wire_reader_refuses),
    # -- results -----------------------------------------------------------------------------------
    Attack("huge_result", "results", "return 80 MB (above max_result_mb)", ALL, drive=_huge_result),
    Attack("deep_result", "results", "return a list nested 100,000 deep", ALL, drive=_deep_result),
    Attack("shared_subtree_result", "results", "return a=[a,a] x150 (2**150 leaves when walked)", ALL,
           drive=_shared_result),
    Attack("cyclic_result", "results", "return self-containing list and dict", ALL, drive=_cyclic_result),
    # -- CPU, memory, limits -----------------------------------------------------------------
    Attack("cpu_burn", "cpu and memory", "loop forever", ALL,
           "def attack(ctx):\n    while True:\n        pass\n", _failed_as("cpu", "timeout", "crash")),
    Attack("cpu_burn_ignoring_sigxcpu", "cpu and memory", "ignore SIGXCPU, then loop forever", ALL,
           "import signal\ndef attack(ctx):\n    signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n    while True:\n        pass\n",
           _failed_as("cpu", "timeout", "crash")),
    Attack("memory_bomb", "cpu and memory", "allocate without end", ALL,
           "def attack(ctx):\n    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n",
           _failed_as("memory", "crash")),
    Attack("raise_cpu_limit", "limits", "raise RLIMIT_CPU back to unlimited", ALL,
           "import resource\ndef attack(ctx):\n    resource.setrlimit(resource.RLIMIT_CPU, (-1, -1))\n    return 1\n", _truthy),
    Attack("raise_memory_limit", "limits", "raise RLIMIT_AS back to unlimited", ALL,
           "import resource\ndef attack(ctx):\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n    return 1\n", _truthy),
    Attack("raise_process_limit", "limits", "raise RLIMIT_NPROC", ALL,
           "import resource\ndef attack(ctx):\n    resource.setrlimit(resource.RLIMIT_NPROC, (100000, 100000))\n    return 1\n",
           _truthy),
    Attack("sleep_past_timeout", "cpu and memory", "sleep past the wall-clock limit", ALL,
           "import time\ndef attack(ctx):\n    time.sleep(60)\n", _failed_as("timeout")),
]


def run_suite(level: str, names: list[str] | None = None) -> list[dict[str, str]]:
    """Run the attacks (all, or `names`) at `level`; one row per attack."""
    rows = []
    with Bait() as bait, SandboxPool(workers=2, isolation=level, cpu_seconds=2, memory_mb=256, timeout_s=6,
                                     file_mb=16, max_result_mb=16, procs=32) as pool:
        for attack in ATTACKS:
            if names and attack.name not in names:
                continue
            outcome = attack.run(pool, bait)
            rows.append({"attack": attack.name, "category": attack.category, "level": level, "outcome": outcome,
                         "claimed": "defended" if level in attack.defended_at else "not claimed",
                         "description": attack.description})
            bait.restore_sibling()
    return rows
