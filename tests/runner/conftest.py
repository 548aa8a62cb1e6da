"""Shared helpers of the runner tests: small configs and a silent console."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

SMALL = {"n_train": 8, "n_val": 6, "n_test": 6, "batch_size": 2}


@pytest.fixture
def quiet() -> Console:
    """A console that writes nowhere visible (progress and tables still render)."""
    return Console(file=io.StringIO(), width=120)
