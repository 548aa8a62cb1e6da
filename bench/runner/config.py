"""The configuration of a bench run, saved as `DIR/config.json` so `resume` can
rebuild everything from the folder alone."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from undertow.bench.runner.budget import parse_budget
from undertow.bench.runner.checkpoint import read_json, write_json
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.tasks import SplitSizes

CONFIG_FILE = "config.json"


class RunSpec(BaseModel):
    """One run of the grid: a task, an optimizer, a seed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    optimizer: str
    seed: int

    @property
    def run_id(self) -> str:
        """Folder name under `DIR/runs/`."""
        return f"{self.task.replace(':', '-')}__{self.optimizer}__s{self.seed}"


class RunConfig(BaseModel):
    """Tasks x optimizers x seeds at one budget, and how each run is cut."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    runs: list[RunSpec]
    llm: str = "sim"
    budget: str = "calls=200"
    steps: int = Field(5, ge=1)
    workers: int = Field(1, ge=1)
    n_train: int = Field(30, ge=1)
    n_val: int = Field(20, ge=1)
    n_test: int = Field(50, ge=1)
    batch_size: int = Field(4, ge=1)
    data_dir: str | None = None        # folder of the real-data tasks (bbh:*, gsm8k)
    # provider limits shared by every run of the sweep (bench/runner/limits.py)
    rpm: float | None = Field(None, gt=0)          # requests per minute
    tpm: float | None = Field(None, gt=0)          # tokens per minute
    rpm_burst: float | None = Field(None, gt=0)    # requests at once after an idle spell
    sweep_budget: str | None = None    # a cap on the training spend of all runs together

    @property
    def sizes(self) -> SplitSizes:
        return SplitSizes(self.n_train, self.n_val, self.n_test)

    def check(self) -> RunConfig:
        """Parse the budgets now, so a bad one fails before any run starts."""
        parse_budget(self.budget)
        if self.sweep_budget is not None:
            try:
                parse_budget(self.sweep_budget)
            except BenchError as exc:
                raise BenchError(f"--sweep-budget: {exc}") from None
        if self.rpm_burst is not None and self.rpm is None:
            raise BenchError("--rpm-burst needs --rpm (the limit it is the burst of)")
        return self


def save_config(out: Path, config: RunConfig) -> None:
    write_json(out / CONFIG_FILE, config.model_dump(mode="json"))


def load_config(out: Path) -> RunConfig:
    """The config of the run in `out`; a `BenchError` if there is none or it is broken."""
    path = Path(out) / CONFIG_FILE
    if not path.is_file():
        raise BenchError(f"{out} holds no bench run (no {CONFIG_FILE}); start one with "
                         "`undertow bench run --out DIR`")
    try:
        return RunConfig.model_validate(read_json(path)).check()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BenchError(f"{path}: bad config ({'.'.join(map(str, first['loc']))}: {first['msg']}); "
                         "start a new run in another folder") from None
