"""The propagator contract."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from undertow.engine.node import Node


class Propagator(ABC):
    """Turns (outputs, one feedback per output) into feedback on the parameters.

    `propagate` appends to each reached parameter's `feedback` list (or adds to its
    `grad`) and returns the parameters it reached, so feedback from several
    `backward` calls accumulates until `zero_feedback()`.
    """

    name: str = "propagator"

    @abstractmethod
    def propagate(self, outputs: Sequence[Node], feedback: Sequence[Any]) -> list[Node]:
        """Deliver `feedback[i]` on `outputs[i]` to the parameters upstream."""
