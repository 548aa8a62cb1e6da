"""Bait the host lays out before the attack suite runs: what a successful attack would touch.

A secret file and a secret environment variable, a directory to write into, listening
TCP, UDP, filesystem and abstract unix sockets that record who connects, and a
sibling process to signal. Every attack's verdict is read off this bait on the host
side, never off what the attacking code claims.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Bait:
    """The host's bait for one run of the suite (use as a context manager)."""

    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    root: str = ""
    hits: dict[str, int] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)
    _socks: list[socket.socket] = field(default_factory=list)
    sibling: subprocess.Popen[bytes] | None = None
    _env_saved: str | None = None

    @property
    def secret(self) -> str:
        return f"undertow-secret-{self.nonce}"

    def __enter__(self) -> Bait:
        self.root = tempfile.mkdtemp(prefix="undertow-bait-")
        os.chmod(self.root, 0o755)
        self.secret_file = os.path.join(self.root, "credentials")
        with open(self.secret_file, "w") as f:
            f.write(self.secret)
        os.chmod(self.secret_file, 0o644)  # world-readable, like much of a real home directory
        self.private_file = os.path.join(self.root, "private_key")
        with open(self.private_file, "w") as f:
            f.write(self.secret)
        os.chmod(self.private_file, 0o600)
        self.write_dir = os.path.join(self.root, "writable")
        os.mkdir(self.write_dir)
        os.chmod(self.write_dir, 0o777)  # world-writable, like /tmp
        self._env_saved = os.environ.get("UNDERTOW_BAIT_API_KEY")
        os.environ["UNDERTOW_BAIT_API_KEY"] = self.secret
        self._held = open(self.private_file)  # noqa: SIM115 - an open descriptor of a secret, held by the host
        self.tcp_port = self._listen(socket.socket(socket.AF_INET, socket.SOCK_STREAM), ("127.0.0.1", 0), "tcp")
        self.udp_port = self._udp()
        self.unix_path = os.path.join(self.root, "host.sock")
        self._listen(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), self.unix_path, "unix")
        os.chmod(self.unix_path, 0o777)
        self.abstract_name = f"undertow-bait-{self.nonce}"
        self._listen(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), "\0" + self.abstract_name, "abstract")
        self.sibling = subprocess.Popen(["sleep", "600"], start_new_session=True, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        return self

    def _listen(self, sock: socket.socket, address: Any, name: str) -> int:
        sock.bind(address)
        sock.listen(16)
        self._socks.append(sock)
        self.hits[name] = 0

        def accept() -> None:
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                self.hits[name] += 1
                conn.close()
        t = threading.Thread(target=accept, daemon=True)
        t.start()
        self._threads.append(t)
        return sock.getsockname()[1] if sock.family == socket.AF_INET else 0

    def _udp(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        self._socks.append(sock)
        self.hits["udp"] = 0

        def recv() -> None:
            while True:
                try:
                    sock.recv(100)
                except OSError:
                    return
                self.hits["udp"] += 1
        threading.Thread(target=recv, daemon=True).start()
        return sock.getsockname()[1]

    def context(self) -> dict[str, Any]:
        """What the attacking code is told (an attacker can usually guess as much)."""
        return {"nonce": self.nonce, "secret_file": self.secret_file, "private_file": self.private_file,
                "write_dir": self.write_dir, "tcp_port": self.tcp_port, "udp_port": self.udp_port,
                "unix_path": self.unix_path, "abstract_name": self.abstract_name, "host_pid": os.getpid(),
                "sibling_pid": self.sibling.pid if self.sibling else 0, "held_fd": self._held.fileno(),
                "repo_file": os.path.abspath(__file__)}

    def sibling_alive(self) -> bool:
        assert self.sibling is not None
        if self.sibling.poll() is not None:
            return False
        try:
            with open(f"/proc/{self.sibling.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state not in ("T", "t", "Z")

    def restore_sibling(self) -> None:
        """After an attack that got through: a fresh sibling (the hurt one is killed)."""
        if not self.sibling_alive():
            assert self.sibling is not None
            self.sibling.kill()
            self.sibling.wait()
            self.sibling = subprocess.Popen(["sleep", "600"], start_new_session=True, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)

    def __exit__(self, *exc: object) -> None:
        for s in self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._held.close()
        if self.sibling is not None:
            self.sibling.kill()
            self.sibling.wait()
        if self._env_saved is None:
            os.environ.pop("UNDERTOW_BAIT_API_KEY", None)
        else:
            os.environ["UNDERTOW_BAIT_API_KEY"] = self._env_saved
        shutil.rmtree(self.root, ignore_errors=True)
