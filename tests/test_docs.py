"""Every ```python block in docs/*.md runs (each file's blocks in order, one namespace)."""

from __future__ import annotations

import linecache
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _docs_with_code() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", _docs_with_code(), ids=lambda p: p.name)
def test_doc_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    for i, block in enumerate(BLOCK.findall(path.read_text(encoding="utf-8"))):
        filename = f"<docs/{path.name} block {i}>"
        # Registered like a file, so tracebacks and inspect.getsource see the code.
        linecache.cache[filename] = (len(block), None, block.splitlines(keepends=True), filename)
        code = compile(block, filename, "exec")
        exec(code, namespace)  # noqa: S102 - our own documentation
