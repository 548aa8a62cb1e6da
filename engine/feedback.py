"""`Feedback`: a feedback sentence that also carries a score.

Text optimizers (OptoPrime, TextGrad...) read feedback as text; black-box and
bandit optimizers (TPE...) need a number. A `Feedback` is both: it *is* the string
(so every text consumer works unchanged, and it serializes as plain JSON text) and
it has a `score` attribute.

    backward(outputs, [Feedback("Wrong: expected 7, got 9", score=0.0), ...])
"""

from __future__ import annotations

from typing import Self


class Feedback(str):
    """Text feedback with an optional numeric score (higher is better)."""

    score: float | None

    def __new__(cls, text: str, score: float | None = None) -> Self:
        obj = super().__new__(cls, text)
        obj.score = None if score is None else float(score)
        return obj

    @property
    def sentence(self) -> str:
        """The text as a plain `str`."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Feedback({str.__repr__(self)}, score={self.score!r})"

    def __reduce__(self) -> tuple[type[Feedback], tuple[str, float | None]]:
        return (Feedback, (self.sentence, self.score))
