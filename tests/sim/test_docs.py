"""docs/sim.md's runnable example runs and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "sim.md"


def test_runnable_example_runs(capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert blocks, "docs/sim.md lost its python examples"
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    assert "not" in capsys.readouterr().out
