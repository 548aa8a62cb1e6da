"""Shared pytest configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: The real BBH / GSM8K files (docs/tasks.md says how to get them): $UNDERTOW_DATA_DIR,
#: else the project's shared copy beside the checkout.
SHARED_DATA = Path(os.environ.get("UNDERTOW_DATA_DIR")
                   or Path(__file__).resolve().parents[1].parent / "shared" / "data")


@pytest.fixture
def shared_data() -> Path:
    """The real BBH / GSM8K files beside the checkout; skips where they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (real BBH/GSM8K files are not in the repo; "
                    "set UNDERTOW_DATA_DIR, see docs/tasks.md)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _no_stale_log_handler():
    """A CLI test runs `configure_logging`, whose handler writes to the stderr pytest had
    captured for that test; left in place, later tests log into a closed file."""
    yield
    import logging

    logger = logging.getLogger("undertow")
    for handler in list(logger.handlers):
        if handler.get_name() == "undertow-stderr":
            logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
