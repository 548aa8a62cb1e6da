"""Shared types of the tool world: tools, their errors, planted flaws and tasks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ToolError(Exception):
    """A tool's own error, with a machine-readable code (`E_ARGS`, `E_PAGE`, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def observation(self) -> str:
        """How an agent sees this error: `Error E_xxx: message`."""
        return f"Error {self.code}: {self.message}"


@dataclass(frozen=True)
class Tool:
    """A deterministic local tool: its shipped documentation (`doc`, with planted flaws),
    the documentation of what it really does (`true_doc`), and its implementation."""

    name: str
    doc: str
    true_doc: str
    fn: Callable[[str], Any]

    def call(self, args: str) -> str:
        """Run the tool on its one string argument; raises `ToolError` on bad input."""
        if not isinstance(args, str):
            raise ToolError("E_ARGS", f"{self.name} takes one string argument, got {type(args).__name__}")
        return str(self.fn(args.strip()))


@dataclass(frozen=True)
class PlantedFlaw:
    """One way the shipped `doc` of `tool` is wrong.

    `found(doc)` says whether a (refined) document states the true behaviour; it is the
    evidence check for DRAFT, never shown to any model.
    """

    tool: str
    id: str
    summary: str
    probe_hint: str
    truth: str = ""                                  # regex a doc must match to state the truth
    found_fn: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    def found(self, doc: str) -> bool:
        """Does `doc` state the true behaviour this flaw hides?"""
        if self.found_fn is not None:
            return self.found_fn(doc)
        return bool(re.search(self.truth, doc, re.IGNORECASE))


@dataclass(frozen=True)
class ToolTask:
    """A question that needs several tool calls; `plan` is one correct (tool, args) sequence."""

    id: str
    question: str
    answer: str
    plan: tuple[tuple[str, str], ...]
    kind: str = ""
