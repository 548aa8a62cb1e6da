"""Shared data types of the bundled tasks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Example(BaseModel):
    """One task item: the text a model sees, the exact answer, and generator metadata.

    `meta` carries what the generator knows about the item (for instance which skills
    it needs); it is never shown to a model.
    """

    model_config = ConfigDict(frozen=True)

    input: str
    target: str
    meta: dict[str, Any] = Field(default_factory=dict)
