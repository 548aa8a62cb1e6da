"""Peer venvs: the marker decides; a finished hand-made install is adopted; clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from undertow.bench.peers import catalog, install
from undertow.bench.peers.catalog import PeerPackage
from undertow.bench.runner.errors import BenchError


@pytest.fixture
def fake(monkeypatch, tmp_path):
    """A peer `fakepeer 1.0` (its import check: `json`) under a temporary peers root."""
    monkeypatch.setenv(install.ENV_ROOT, str(tmp_path))
    monkeypatch.setitem(catalog.PACKAGES, "fakepeer", PeerPackage("fakepeer", "1.0", "json"))
    return tmp_path


def _venv_like(root: Path, log: str | None) -> Path:
    folder = root / "fakepeer-1.0"
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to(sys.executable)
    if log is not None:
        (root / "fakepeer-1.0.install.log").write_text(log)
    return folder


def test_absent_peer_is_not_installed_and_require_says_how(fake):
    assert not install.is_installed("fakepeer")
    with pytest.raises(BenchError, match="undertow peers install fakepeer"):
        install.require("fakepeer")


def test_finished_hand_made_install_is_adopted_and_marked(fake):
    folder = _venv_like(fake, "pip noise\nexit 0\n")
    assert install.is_installed("fakepeer")
    assert (folder / install.MARKER).is_file()
    assert install.require("fakepeer") == folder / "bin" / "python"


@pytest.mark.parametrize("log", [None, "exit 1\n", "still running\n", ""])
def test_unfinished_or_failed_install_is_not_adopted(fake, log):
    folder = _venv_like(fake, log)
    assert not install.is_installed("fakepeer")
    assert not (folder / install.MARKER).exists()
    assert "incomplete" in install.status("fakepeer").note


def test_adoption_needs_the_package_to_import(fake, monkeypatch):
    monkeypatch.setitem(catalog.PACKAGES, "fakepeer",
                        PeerPackage("fakepeer", "1.0", "undertow_no_such_module_xyz"))
    _venv_like(fake, "exit 0\n")
    assert not install.is_installed("fakepeer")


def test_install_that_cannot_build_a_venv_fails_clearly_and_marks_nothing(fake):
    with pytest.raises(BenchError, match="could not install peer fakepeer 1.0"):
        install.install("fakepeer", python=str(fake / "no-such-python"))
    assert not install.is_installed("fakepeer")


def test_unknown_peer_names_the_known_ones():
    with pytest.raises(BenchError, match="trace-opt, textgrad, dspy, gepa"):
        install.status("tracee")


def test_pins_are_the_ones_the_bench_reports():
    labels = {p.label for p in catalog.PACKAGES.values()}
    assert labels == {"trace-opt 0.1.3.8", "textgrad 0.1.8", "dspy 3.4.1", "gepa 0.1.4"}
    assert set(catalog.OPTIMIZERS) == {"trace:optoprime", "textgrad:tgd", "dspy:copro", "dspy:miprov2",
                                       "gepa:optimize"}
