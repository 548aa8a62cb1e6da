"""The documentation site builds with `mkdocs build --strict`: every page in the nav
exists, every link resolves, and the API reference renders from the docstrings with
no docstring warnings."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None
                    or importlib.util.find_spec("mkdocstrings_handlers") is None,
                    reason="mkdocs / mkdocstrings[python] not installed (the test extra has them)")
def test_mkdocs_build_strict(tmp_path) -> None:
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          # a source tree of its own: nothing else under build/ can race with it
                          env={**os.environ, "UNDERTOW_APIDOC_SRC": str(tmp_path / "apidoc-src")})
    assert done.returncode == 0, done.stdout + done.stderr
    reference = (site / "reference" / "engine" / "index.html").read_text(encoding="utf-8")
    assert "Parameter" in reference and "backward" in reference   # rendered docstrings
    assert (site / "design" / "index.html").is_file() and (site / "dspy" / "index.html").is_file()
