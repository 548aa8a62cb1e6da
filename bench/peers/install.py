"""Virtual environments for the peer frameworks, one per pinned package, in the cache dir.

`install(name)` builds `<user cache>/undertow/peers/<name>-<version>` with pip and
writes a marker file (`.undertow-peer.json`) only after the package imports there;
a folder without the marker is not installed. A venv built by hand (or by an earlier
tool) beside its `<name>-<version>.install.log` whose last line says `exit 0` is
adopted: it is checked by importing the package, then marked.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from undertow.bench.peers.catalog import PACKAGES, PeerPackage
from undertow.bench.runner.errors import BenchError

MARKER = ".undertow-peer.json"
ENV_ROOT = "UNDERTOW_PEERS_DIR"  # overrides where the venvs live (tests, CI caches)


def peers_root() -> Path:
    """Where peer venvs live: `$UNDERTOW_PEERS_DIR`, else `<user cache>/undertow/peers`."""
    override = os.environ.get(ENV_ROOT)
    return Path(override) if override else Path(platformdirs.user_cache_dir("undertow")) / "peers"


def package(name: str) -> PeerPackage:
    """The pinned package called `name`, or a `BenchError` listing the known ones."""
    if name not in PACKAGES:
        raise BenchError(f"unknown peer {name!r}; the peers are: {', '.join(PACKAGES)}")
    return PACKAGES[name]


def venv_dir(name: str) -> Path:
    p = package(name)
    return peers_root() / f"{p.name}-{p.version}"


def python_of(name: str) -> Path:
    return venv_dir(name) / "bin" / "python"


@dataclass(frozen=True)
class PeerStatus:
    name: str
    version: str
    path: Path
    installed: bool
    note: str = ""


def _imports(python: Path, module: str) -> tuple[bool, str]:
    if not python.is_file():
        return False, f"no python at {python}"
    # in a folder of its own: importing textgrad makes ./logs/ in the working directory
    with tempfile.TemporaryDirectory(prefix="undertow-peer-import-") as folder:
        proc = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True,
                              env={**os.environ, "TRACE_DEFAULT_LLM_BACKEND": "CustomLLM"}, timeout=300,
                              cwd=folder)
    return proc.returncode == 0, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""


def _write_marker(name: str, how: str) -> None:
    p = package(name)
    (venv_dir(name) / MARKER).write_text(json.dumps(
        {"package": p.name, "version": p.version, "requirements": p.requirements, "how": how}) + "\n",
        encoding="utf-8")


def _marker_matches(name: str) -> bool:
    """A marker counts only for the requirements it was written for (a new pin or a new
    companion package means the venv must be completed)."""
    path = venv_dir(name) / MARKER
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("requirements") == package(name).requirements
    except (OSError, ValueError):
        return False


def _log_says_done(name: str) -> bool:
    log = venv_dir(name).with_name(venv_dir(name).name + ".install.log")
    if not log.is_file():
        return False
    lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    return bool(lines) and lines[-1] == "exit 0"


def is_installed(name: str) -> bool:
    """True when the venv carries the marker (adopting a finished hand-made install first)."""
    folder = venv_dir(name)
    if _marker_matches(name):
        return True
    if folder.is_dir() and _log_says_done(name):
        ok, _ = _imports(python_of(name), package(name).module)
        if ok:
            _write_marker(name, "adopted (install log says exit 0)")
            return True
    return False


def status(name: str) -> PeerStatus:
    p = package(name)
    folder = venv_dir(name)
    if is_installed(name):
        return PeerStatus(p.name, p.version, folder, True)
    note = "not installed" if not folder.exists() else "incomplete or outdated: run `undertow peers install`"
    return PeerStatus(p.name, p.version, folder, False, note)


def list_peers() -> list[PeerStatus]:
    return [status(n) for n in PACKAGES]


def require(name: str) -> Path:
    """The peer venv's python, or a `BenchError` saying how to install it."""
    if not is_installed(name):
        p = package(name)
        raise BenchError(f"peer {p.label} is not installed (looked in {venv_dir(name)}); "
                         f"run `undertow peers install {p.name}`")
    return python_of(name)


def install(name: str, *, python: str | None = None, log: Path | None = None) -> PeerStatus:
    """Build the venv of `name` at its pinned version (nothing to do when it is there).

    Raises `BenchError` with pip's last lines when it cannot (no network, no wheel
    for this Python, ...); the half-built folder stays unmarked, so it is never used.
    """
    p = package(name)
    if is_installed(name):
        return status(name)
    folder = venv_dir(name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    log = log or folder.with_name(folder.name + ".install.log")
    steps = [[python or sys.executable, "-m", "venv", str(folder)],
             [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
             [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *p.requirements]]
    if python_of(name).is_file():  # an unmarked venv (half-built, or missing a companion): complete it
        steps = steps[2:]
    with log.open("a" if len(steps) == 1 else "w", encoding="utf-8") as out:
        for cmd in steps:
            out.write("+ " + " ".join(cmd) + "\n")
            out.flush()
            try:
                rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
            except OSError as exc:  # no such interpreter, not executable
                out.write(f"{exc}\n")
                rc = 127
            if rc != 0 and "--upgrade" not in cmd:  # a pip self-upgrade that fails is harmless
                out.write(f"exit {rc}\n")
                out.close()
                tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-8:])
                raise BenchError(f"could not install peer {p.label} (`{' '.join(cmd[-2:])}` exited {rc}); "
                                 f"pip needs a package index that has {' '.join(p.requirements)} for Python "
                                 f"{sys.version_info.major}.{sys.version_info.minor}. Log {log}:\n{tail}")
        out.write("exit 0\n")
    ok, err = _imports(python_of(name), p.module)
    if not ok:
        raise BenchError(f"peer {p.label} installed but `import {p.module}` fails there: {err}; "
                         f"remove {folder} and install again")
    _write_marker(name, "undertow peers install")
    return status(name)
