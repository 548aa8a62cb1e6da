"""Shared helpers of the peer tests: which peers are installed, and skip reasons."""

from __future__ import annotations

import pytest
from undertow.bench.peers.install import is_installed, peers_root


def need(package: str) -> None:
    """Skip the test, with the reason, when a peer venv is absent."""
    if not is_installed(package):
        pytest.skip(f"peer {package} is not installed in {peers_root()}; "
                    f"run `undertow peers install {package}`")
