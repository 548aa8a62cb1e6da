"""Every ```python block in docs/*.md runs on its own (a fresh namespace per block), so a
reader can copy any one block into a file and run it."""

from __future__ import annotations

import linecache
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
#: Extras a block may need; without them the block is skipped, naming the extra.
OPTIONAL = {"dspy": "dspy", "litellm": "litellm", "optuna": "tpe", "sklearn": "hpo"}


def _blocks() -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        for i, block in enumerate(BLOCK.findall(path.read_text(encoding="utf-8"))):
            found.append((path, i, block))
    return found


@pytest.mark.parametrize("path, index, block", _blocks(),
                         ids=[f"{p.relative_to(DOCS)}-{i}" for p, i, _ in _blocks()])
def test_doc_block_runs_on_its_own(path, index, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    filename = f"<docs/{path.relative_to(DOCS)} block {index}>"
    # Registered like a file, so tracebacks and inspect.getsource see the code.
    linecache.cache[filename] = (len(block), None, block.splitlines(keepends=True), filename)
    try:
        exec(compile(block, filename, "exec"), {"__name__": f"docs_{path.stem}_{index}"})  # noqa: S102
    except ModuleNotFoundError as exc:
        if exc.name not in OPTIONAL:
            raise
        pytest.skip(f"needs {exc.name}: pip install 'undertow[{OPTIONAL[exc.name]}]'")
