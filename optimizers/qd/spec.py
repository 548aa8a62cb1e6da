"""What a quality-diversity search is asked for: a brief, a quality rule and diversity axes,
all as text (the LLM reads them), plus the archive they make."""

from __future__ import annotations

from dataclasses import dataclass, field

from .archive import Archive


@dataclass(frozen=True)
class Axis:
    """One diversity axis judged by an LLM: a name, what it measures, its bins in order."""

    name: str
    description: str
    bins: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.bins) < 2:
            raise ValueError(f"axis {self.name!r} needs at least 2 bins, got {list(self.bins)}")
        if len(set(b.lower() for b in self.bins)) != len(self.bins):
            raise ValueError(f"axis {self.name!r} has repeated bins: {list(self.bins)}")


@dataclass(frozen=True)
class QDProblem:
    """The brief (what to write), the quality rule (how an LLM should score it, 0..10)
    and the axes. `seed_ideas` vary the first generations (e.g. subjects)."""

    brief: str
    rule: str
    axes: tuple[Axis, ...]
    seed_ideas: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.axes:
            raise ValueError("a QD problem needs at least one axis")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.bins) for a in self.axes)

    def archive(self, backend: str | None = None) -> Archive:
        """An empty archive over the axes; fitness is a quality score in [0, 1]."""
        return Archive(self.shape, offset=0.0, top=1.0, backend=backend)

    def cell_name(self, coords: tuple[int, ...] | list[int]) -> str:
        """"tone: cheerful; genre: mystery" for bin coordinates."""
        return "; ".join(f"{a.name}: {a.bins[int(c)]}" for a, c in zip(self.axes, coords))
