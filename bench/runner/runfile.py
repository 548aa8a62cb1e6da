"""`undertow bench run --config FILE.toml`: every option of `bench run` in a file, so a
sweep lives under version control.

Keys are the option names with `_` or `-` (`n_train` or `n-train`); `task` and
`optimizer` take a string (comma-separated) or a list. Options given on the
command line win over the file. Example:

    task = ["word_sorting", "object_counting"]
    optimizer = "textgrad,optoprime,mcts"
    llm = "sim"
    seeds = 3
    budget = "calls=200"
    steps = 5
    workers = 2
    out = "bench-runs/sweep-1"
    n_train = 30
    n_val = 20
    n_test = 50
    batch_size = 4
    otel = "otlp"      # optional: console or otlp
    data_dir = "~/data"  # optional: real BBH / GSM8K files (bbh:<task>, gsm8k)
    rpm = 10000          # optional: the provider's limits, shared by the whole sweep
    tpm = 2000000
    rpm_burst = 100
    sweep_budget = "usd=50"  # optional: a cap on the training spend of all runs together
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from undertow.bench.runner.errors import BenchError


class RunFile(BaseModel):
    """The options of `bench run`, as a TOML file holds them (all optional)."""

    model_config = ConfigDict(extra="forbid")

    task: list[str] | None = None
    optimizer: list[str] | None = None
    llm: str | None = None
    seeds: int | None = Field(None, ge=1)
    budget: str | None = None
    steps: int | None = Field(None, ge=1)
    out: Path | None = None
    workers: int | None = Field(None, ge=1)
    n_train: int | None = Field(None, ge=1)
    n_val: int | None = Field(None, ge=1)
    n_test: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    otel: str | None = None
    data_dir: Path | None = None
    executor: str | None = None
    ray_address: str | None = None
    rpm: float | None = Field(None, gt=0)
    tpm: float | None = Field(None, gt=0)
    rpm_burst: float | None = Field(None, gt=0)
    sweep_budget: str | None = None

    @field_validator("task", "optimizer", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


def load_run_file(path: Path) -> dict[str, Any]:
    """The options set in `path` (keys as the command's parameter names)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"config file {path} does not exist; pass an existing .toml file to --config") from None
    except OSError as exc:
        raise BenchError(f"cannot read config file {path} ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"{path} is not valid TOML ({exc}); see docs/bench.md for an example") from None
    data = {k.replace("-", "_"): v for k, v in raw.items()}
    try:
        parsed = RunFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first.get("loc", ())) or "?"
        if first["type"] == "extra_forbidden":
            known = ", ".join(RunFile.model_fields)
            raise BenchError(f"{path}: unknown key {key!r}; the keys are: {known}") from None
        raise BenchError(f"{path}: bad value for {key!r} ({first['msg']})") from None
    return parsed.model_dump(exclude_none=True)
