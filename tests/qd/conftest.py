from __future__ import annotations

import io

import pytest
from rich.console import Console


@pytest.fixture
def quiet() -> Console:
    """A console that writes nowhere visible."""
    return Console(file=io.StringIO(), width=120)
