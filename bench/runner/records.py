"""Result records: one JSON line per evaluation of one run, validated by pydantic.

A run `(task, optimizer, seed)` writes a `val` record after each optimizer step
(step 0 is the starting agent) and one `test` record at the end. `calls`, `tokens`
and `cost_usd` are what the optimization spent so far (the budgeted client: agent
forward calls and optimizer calls); `eval_calls` are the calls spent scoring.
`tag` says which LLM made the numbers (`llm=sim` for the simulator).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from undertow.bench.runner.checkpoint import write_atomic
from undertow.bench.runner.errors import BenchError


class StepRecord(BaseModel):
    """One evaluation of one run at one step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    optimizer: str
    llm: str = Field(description="the LLM spec, or 'none' when the run used no LLM")
    tag: str = ""
    budget: str
    seed: int
    step: int = Field(ge=0)
    split: Literal["val", "test"]
    score: float
    calls: int = Field(ge=0)
    tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0)
    eval_calls: int = Field(ge=0)
    wall_s: float = Field(ge=0)
    stopped: str = Field("", description="why the run ended here (test records): steps, budget")
    framework: str = Field("", description="whose optimizer ran: 'undertow 0.1.0', 'dspy 3.4.1', ...")

    @field_validator("score", "cost_usd", "wall_s")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError(f"must be a finite number, got {v}")
        return v

    @model_validator(mode="after")
    def _tag(self) -> StepRecord:
        expected = f"llm={self.llm}"
        if self.tag and self.tag != expected:
            raise ValueError(f"tag {self.tag!r} does not match llm {self.llm!r}")
        if not self.tag:
            object.__setattr__(self, "tag", expected)
        return self


def dump_jsonl(path: Path, records: Iterable[StepRecord], *, durable: bool = True) -> None:
    """Write records as JSON lines, atomically (`durable=False`: no fsync)."""
    write_atomic(path, records_text(records), durable=durable)


def records_text(records: Iterable[StepRecord]) -> str:
    """Records as JSON lines (what `dump_jsonl` writes)."""
    return "".join(r.model_dump_json() + "\n" for r in records)


def load_jsonl(path: Path) -> list[StepRecord]:
    """Read and validate a JSONL file; a bad line is a `BenchError` naming file and line."""
    records = []
    with path.open(encoding="utf-8", newline="") as f:  # no newline translation: JSONL splits on \n only
        text = f.read()
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append(StepRecord.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "line"
            raise BenchError(f"{path}:{n}: bad record ({where}: {first['msg']}); "
                             "the file was not written by this version of undertow, or was edited") from None
    return records
