"""What the prompt optimizers (APE, SPO, APOHF, GEPA, and the whole-program searches)
run: a `Program`, a set of parameters plus a way to answer items with *candidate*
values for them, without touching the parameters themselves.

An optimizer scores a candidate by running the program with a value map
``{parameter name: value}``; names are those of `Optimizer.names` (a parameter's
label). Each answer is a `Rollout`: the final output, its score and feedback (when
the program has a metric), and the `Call` of every parameter on the item's way
(what that parameter's LLM call read and wrote). The calls are the execution trace
GEPA reflects on and the demonstrations APE induces from.

`PromptProgram` is the common case, one system prompt over one LLM call per item.
`Unlabeled(program)` hides the targets and the metric (SPO, APOHF with a
preference-only oracle): its rollouts have ``score=None`` and no feedback.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from undertow.engine import Parameter
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.fanout import Fanout, per_item
from undertow.optimizers.search.prompting import Item, ScoreFn

#: ``feedback(output, item, score) -> sentence``.
FeedbackFn = Callable[[str, Item, float], str]


@dataclass(frozen=True)
class Call:
    """One LLM call a parameter took part in: what it was asked and what it answered."""

    parameter: str
    input: str
    output: str


@dataclass(frozen=True)
class Rollout:
    """One item run through the program with some candidate values."""

    item: Item
    output: str
    score: float | None
    feedback: str
    calls: tuple[Call, ...]

    def touched(self, name: str) -> bool:
        """Whether parameter ``name`` took part in this rollout."""
        return any(c.parameter == name for c in self.calls)


def default_feedback(output: str, item: Item, score: float) -> str:
    """"Correct", or "Wrong: expected X, got Y" (Y: the output's last line, shortened)."""
    if score >= 1.0:
        return "Correct"
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    got = lines[-1] if lines else "(an empty reply)"
    return f"Wrong: expected {item.target}, got {got[:160]}"


class Program(ABC):
    """Parameters plus a way to answer items with candidate values for them.

    Subclasses set ``parameters`` (unique labels) and implement `aanswer`;
    ``score`` and ``feedback`` turn an answer into a rollout's score and sentence.
    """

    parameters: list[Parameter]
    score: ScoreFn | None = None
    feedback_fn: FeedbackFn = staticmethod(default_feedback)  # type: ignore[assignment]

    def check_names(self) -> None:
        labels = [p.label for p in self.parameters]
        if len(set(labels)) != len(labels):
            raise ValueError(f"a Program's parameters need distinct names, got {labels}; "
                             "give each Parameter its own name=")

    @property
    def names(self) -> list[str]:
        return [p.label for p in self.parameters]

    def current(self) -> dict[str, Any]:
        """The value map of the parameters as they are now."""
        return {p.label: p.value for p in self.parameters}

    def with_value(self, name: str, value: Any, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The current values (or ``base``) with one parameter replaced."""
        return {**(dict(base) if base is not None else self.current()), name: value}

    @property
    def labelled(self) -> bool:
        """Whether rollouts carry scores (False for `Unlabeled`)."""
        return self.score is not None

    @abstractmethod
    async def aanswer(self, values: Mapping[str, Any], items: Sequence[Item]
                      ) -> list[tuple[str, tuple[Call, ...]]]:
        """The final output and the parameter calls for each item, in order."""

    async def arun(self, values: Mapping[str, Any], items: Sequence[Item],
                   fanout: Fanout | None = None) -> list[Rollout]:
        """Answer ``items`` with ``values``; score them when the program has a metric.

        With a ``fanout`` each item is one rollout job, ``fanout.width`` at a time;
        without, the program answers them all in one call (``aanswer``).
        """
        if fanout is None:
            answers = await self.aanswer(values, items)
        else:
            answers = await per_item(fanout, lambda part: self.aanswer(values, part), items)
        out = []
        for it, (output, calls) in zip(items, answers):
            if self.score is None:
                out.append(Rollout(it, output, None, "", calls))
                continue
            s = float(self.score(output, it.target))
            out.append(Rollout(it, output, s, self.feedback_fn(output, it, s), calls))
        return out

    def run(self, values: Mapping[str, Any], items: Sequence[Item]) -> list[Rollout]:
        """`arun`, from synchronous code."""
        return run_sync(self.arun(values, items))


class PromptProgram(Program):
    """One ``text`` parameter used as the system prompt of one LLM call per item."""

    def __init__(self, param: Parameter, llm: LLM, score: ScoreFn | None = None, *,
                 feedback: FeedbackFn | None = None, temperature: float = 0.0,
                 purpose: str = "forward") -> None:
        self.parameters = [param]
        self.llm, self.score, self.temperature, self.purpose = llm, score, temperature, purpose
        if feedback is not None:
            self.feedback_fn = feedback

    async def aanswer(self, values: Mapping[str, Any], items: Sequence[Item]
                      ) -> list[tuple[str, tuple[Call, ...]]]:
        name = self.parameters[0].label
        prompt = str(values[name])
        messages = [[{"role": "system", "content": prompt}, {"role": "user", "content": it.input}]
                    for it in items]
        replies = await self.llm.acomplete_many(messages, purpose=self.purpose,
                                                temperature=self.temperature)
        return [(r.text, (Call(name, it.input, r.text),)) for it, r in zip(items, replies)]


class Unlabeled(Program):
    """A program with its targets and metric hidden: what SPO and APOHF may see."""

    def __init__(self, inner: Program) -> None:
        self.inner = inner
        self.parameters = inner.parameters
        self.score = None

    async def aanswer(self, values: Mapping[str, Any], items: Sequence[Item]
                      ) -> list[tuple[str, tuple[Call, ...]]]:
        return await self.inner.aanswer(values, [replace(it, target="") for it in items])


def mean(rollouts: Sequence[Rollout]) -> float:
    """Mean score of scored rollouts (0.0 for none)."""
    scores = [r.score for r in rollouts if r.score is not None]
    return sum(scores) / len(scores) if scores else 0.0


async def gather(coros: Sequence[Any]) -> list[Any]:
    """All of ``coros`` concurrently, results in order."""
    return list(await asyncio.gather(*coros))
