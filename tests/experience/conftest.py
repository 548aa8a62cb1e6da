"""Fixtures of the experience-library tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from undertow.optimizers.experience import ExperienceStore


@pytest.fixture
def store(tmp_path: Path) -> ExperienceStore:
    s = ExperienceStore(tmp_path / "lib.db")
    yield s
    s.close()
