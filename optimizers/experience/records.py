"""Records of the experience library, as pydantic models.

Four kinds share one base: an `Insight` (AlphaOPT's taxonomy / applicability
condition / explanation / example), a `Trajectory` (a solved item kept as a few-shot
example), a `Workflow` (a reusable procedure) and a `DocPatch` (a change to a
document). Every record carries provenance (source tasks, run), lineage (the records
it was merged from), a status and a scope. Statistics are never stored on a record:
they are derived from the event log (`RecordStats`).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

Status = Literal["candidate", "verified", "active", "deprecated"]
Kind = Literal["insight", "trajectory", "workflow", "doc_patch"]
STATUSES: tuple[str, ...] = ("candidate", "verified", "active", "deprecated")
KINDS: tuple[str, ...] = ("insight", "trajectory", "workflow", "doc_patch")

#: Allowed status changes: forward along the life cycle, or straight to deprecated.
TRANSITIONS: dict[str, frozenset[str]] = {
    "candidate": frozenset({"verified", "deprecated"}),
    "verified": frozenset({"active", "deprecated"}),
    "active": frozenset({"deprecated"}),
    "deprecated": frozenset(),
}

_ID = re.compile(r"^[a-z_]+-[0-9a-f]{6,32}$")


def new_id(kind: str) -> str:
    """A fresh record id such as `insight-3f9a1c2b7d01`."""
    return f"{kind}-{secrets.token_hex(6)}"


class Provenance(BaseModel):
    """Where a record came from: the task items that produced it and the run."""

    model_config = ConfigDict(extra="forbid")

    source_tasks: list[str] = Field(default_factory=list)
    run: str = ""


class RecordBase(BaseModel):
    """Fields every record has. `version` and `generation` are set by the store."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str = ""
    kind: Kind
    status: Status = "candidate"
    scope: str = "global"
    taxonomy: list[str] = Field(default_factory=list)
    provenance: Provenance = Field(default_factory=Provenance)
    merged_from: list[str] = Field(default_factory=list)
    version: int = 0
    generation: int = 0
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if v and not _ID.match(v):
            raise ValueError(f"record id {v!r} must look like 'insight-0123abcd' (kind, dash, hex)")
        return v

    @field_validator("scope")
    @classmethod
    def _scope_shape(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("scope must not be empty; use 'global' for records that apply everywhere")
        return v

    def search_fields(self) -> tuple[str, str, str, str]:
        """(taxonomy, condition, content, example): the text the full-text index sees."""
        return " ".join(self.taxonomy), "", "", ""

    def render(self) -> str:
        """The text injected into a prompt."""
        return self.search_fields()[2]


class Insight(RecordBase):
    """A lesson: when it applies (`condition`), what to do and why (`explanation`), an example."""

    kind: Literal["insight"] = "insight"
    condition: str = ""
    explanation: str
    example: str = ""

    def search_fields(self) -> tuple[str, str, str, str]:
        return " ".join(self.taxonomy), self.condition, self.explanation, self.example

    def render(self) -> str:
        return f"{self.explanation} (Applies when: {self.condition})" if self.condition \
            else self.explanation


class Trajectory(RecordBase):
    """A solved item (input, output, reward) kept as an in-context example."""

    kind: Literal["trajectory"] = "trajectory"
    input: str
    output: str
    reward: float = 1.0

    def search_fields(self) -> tuple[str, str, str, str]:
        return " ".join(self.taxonomy), "", self.output, self.input

    def render(self) -> str:
        return f"Input: {self.input}\nOutput: {self.output}"


class Workflow(RecordBase):
    """A reusable procedure: numbered steps and when to use it."""

    kind: Literal["workflow"] = "workflow"
    condition: str = ""
    steps: list[str]

    def search_fields(self) -> tuple[str, str, str, str]:
        return " ".join(self.taxonomy), self.condition, "\n".join(self.steps), ""

    def render(self) -> str:
        return "\n".join(f"{i}. {s}" for i, s in enumerate(self.steps, 1))


class DocPatch(RecordBase):
    """A change to a document: which document, and the text to add or replace."""

    kind: Literal["doc_patch"] = "doc_patch"
    target: str
    patch: str
    condition: str = ""

    def search_fields(self) -> tuple[str, str, str, str]:
        return " ".join(self.taxonomy), self.condition, self.patch, self.target

    def render(self) -> str:
        return self.patch


Record = Annotated[Insight | Trajectory | Workflow | DocPatch, Field(discriminator="kind")]
RECORD_ADAPTER: TypeAdapter[Any] = TypeAdapter(Record)


def parse_record(data: Any) -> Insight | Trajectory | Workflow | DocPatch:
    """A record from JSON data (a dict with a `kind`); pydantic's ValidationError if malformed."""
    return RECORD_ADAPTER.validate_python(data)


class RecordStats(BaseModel):
    """Statistics of one record, derived from its events (never stored)."""

    importance: int = 0
    retrieved: int = 0
    injected: int = 0
    outcomes: int = 0
    successes: int = 0
    reward_sum: float = 0.0

    @property
    def mean_reward(self) -> float | None:
        return self.reward_sum / self.outcomes if self.outcomes else None

    def utility(self, prior: float = 0.5, weight: float = 2.0) -> float:
        """Mean reward when injected, shrunk toward `prior` while there are few outcomes."""
        return (self.reward_sum + prior * weight) / (self.outcomes + weight)


class Event(BaseModel):
    """One line of the append-only event log."""

    seq: int = 0
    record_id: str
    kind: str
    generation: int
    run: str = ""
    reward: float | None = None
    delta: int = 0
    detail: dict[str, Any] = Field(default_factory=dict)
    at: float = 0.0
