"""The structured result of `SimLLM.diagnose`: what the sim read in a request and means to do.

Two requests that carry the same information (the same items, outputs, expected answers
and feedback) must give equal `key()`s whatever their syntax: the conformance and fuzz
tests compare them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ItemView(BaseModel):
    """A task item the sim found, with what the request shows about it."""

    item: str | None = None
    profile: str | None = None
    output: str | None = None
    #: The final answer read off `output` by the task's profile.
    answer: str | None = None
    expected: str | None = None
    feedback: str | None = None


class RequestDiagnosis(BaseModel):
    """The sim's reading of one request (no random draw involved)."""

    role: str
    variables: list[tuple[str, str]] = Field(default_factory=list)
    target: str | None = None
    items: list[ItemView] = Field(default_factory=list)
    #: True: the reply is made from evidence; False: a guess; None: not judged (answers).
    evidence: bool | None = None
    #: "profile.skill" names the evidence points at (before the sim's random misreading).
    skills: list[str] = Field(default_factory=list)
    reply_format: str = "plain"
    reply_keys: list[str] = Field(default_factory=list)

    def key(self) -> tuple:
        """The comparable part: role, items (item, answer read, whether an expected answer
        and feedback are attached), evidence and skills; item order ignored."""
        items = sorted((i.item or "", i.answer or "", bool(i.feedback))
                       for i in self.items if i.item)
        return (self.role, tuple(items), self.evidence, tuple(sorted(self.skills)))
