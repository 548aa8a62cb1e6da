"""OPRO: the optimizer model reads the best (value, score) pairs so far and proposes more.

Each `step()` writes one meta-prompt for the parameter: the best earlier values with
their scores, sorted from lowest to highest score (so the best sit next to the
request), the current best value as a `<variable>` block, a few task examples, the
examples the best value gets wrong, and a request for a new, better value as JSON.
It samples `k` replies (`sample_index` 0..k-1, temperature > 0), scores every valid,
new proposal with the user's `evaluate(value)` callback (for instance accuracy on a
training batch), keeps all of them in the history, and applies the best one if it
scores higher than the current value.

OPRO needs no `backward`: the scores are its feedback. But a model, like the
simulated one, can only diagnose what a request shows: scores alone say *that* a
value is bad, not *why*. So `evaluate` may return an `Evaluation` with examples
(input, output, expected, feedback) — typically the items the value got wrong — and
the meta-prompt shows those of the best value (see docs/textgrad-opro.md for what
this changes on the simulator).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import InvalidValueError, Module, Parameter, StateError
from undertow.optimizers import _prompting as pr
from undertow.optimizers.base import Optimizer, Proposal

SYSTEM = (
    "You are an optimizer. You read values that were tried for a variable, each with "
    "its score (higher is better), and write a new value that should score higher "
    "than all of them."
)
EXAMPLE_FIELDS = ("input", "output", "expected", "feedback")


@dataclass
class Evaluation:
    """What `evaluate(value)` may return instead of a bare score.

    Attributes:
        score: the value's score; higher is better.
        examples: items worth showing the optimizer model, as dicts with any of the
            keys input, output, expected, feedback — typically the failures.
    """

    score: float
    examples: list[dict[str, Any]] = field(default_factory=list)


Evaluate = Callable[[Any], "float | Evaluation"]


class OPRO(Optimizer):
    """Optimization by prompting, for one parameter of any kind.

    Args:
        parameters: exactly one parameter (a list of one, or a `Module` with one).
        llm: the optimizer model (an `undertow.engine.llm.LLM`).
        evaluate: `evaluate(value) -> float | Evaluation`, higher is better. It must
            use the value it is given, not read the parameter (which holds the
            current value while candidates are scored).
        k: proposals sampled per step.
        temperature: sampling temperature; must be > 0 so the k samples differ.
        top: how many of the best (value, score) pairs the meta-prompt shows.
        examples: a few task examples to show, as dicts (input, expected, ...) or
            objects with `input` and `target` attributes.
        max_examples: at most this many failing examples of the best value are shown.
        max_chars: the longest value shown in a meta-prompt.
        min_gain: a proposal is applied only if it beats the current score by more.
        purpose: the accounting purpose of the requests.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, llm: Any, evaluate: Evaluate, *,
                 k: int = 4, temperature: float = 1.0, top: int = 20,
                 examples: Sequence[Any] = (), max_examples: int = 3, max_chars: int = 2000,
                 min_gain: float = 0.0, purpose: str = "optimizer") -> None:
        super().__init__(parameters)
        if len(self.parameters) != 1:
            raise ValueError(f"OPRO optimizes one parameter, got {len(self.parameters)}; "
                             "for a program with several parameters use "
                             "WholeProgram(program, opro_factory(llm, train)) (undertow.optimizers.whole)")
        if not callable(evaluate):
            raise TypeError("OPRO: evaluate must be a callable evaluate(value) -> float")
        if k < 1 or top < 1 or max_examples < 0 or max_chars < 1:
            raise ValueError("OPRO: k and top must be >= 1, max_examples >= 0, max_chars >= 1")
        if not temperature > 0:
            raise ValueError(f"OPRO: temperature must be > 0 so that the k samples differ, got {temperature}")
        self.param = self.parameters[0]
        self.name = self.names[id(self.param)]
        self.llm, self.evaluate = llm, evaluate
        self.k, self.temperature, self.top = k, temperature, top
        self.task_examples = [_example_fields(e) for e in examples]
        self.max_examples, self.max_chars, self.min_gain = max_examples, max_chars, min_gain
        self.purpose = purpose
        # Every value scored so far: {"value", "score", "step", "examples"}, in order.
        self.history: list[dict[str, Any]] = []

    # -- scores -------------------------------------------------------------------
    def score_of(self, value: Any) -> float | None:
        """The recorded score of `value`, or None if it was never scored."""
        key = _key(value)
        for h in self.history:
            if _key(h["value"]) == key:
                return float(h["score"])
        return None

    def _score(self, value: Any) -> dict[str, Any]:
        result = self.evaluate(value)
        if isinstance(result, Evaluation):
            score, shown = result.score, result.examples
        else:
            score, shown = result, []
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise ValueError(f"OPRO: evaluate returned {score!r}; it must return a finite number "
                             "(or an Evaluation with one)")
        entry = {"value": value, "score": float(score), "step": self.steps,
                 "examples": [_example_fields(e) for e in shown][: self.max_examples]}
        self.history.append(entry)
        return entry

    def best(self) -> dict[str, Any] | None:
        """The best-scoring history entry (the earliest among equals), or None."""
        return max(reversed(self.history), key=lambda h: h["score"], default=None)

    # -- the meta-prompt ----------------------------------------------------------
    def meta_prompt(self) -> list[dict[str, str]]:
        """The messages of this step's request (`step()` scores the current value first)."""
        current = next((h for h in reversed(self.history) if _key(h["value"]) == _key(self.param.value)),
                       {"score": float("nan"), "examples": []})
        ranked = sorted(self.history, key=lambda h: h["score"])[-self.top:]
        parts = [(f"Values tried so far for the variable {self.name}, from the lowest score "
                  "to the highest (higher is better):")]
        parts += [f'<solution score="{h["score"]:.4g}">{pr.clip(pr.show(h["value"]), self.max_chars)}</solution>'
                  for h in ranked]
        parts += ["The current value:", pr.variable_block(self.name, self.param, self.max_chars)]
        if self.task_examples:
            parts.append("Examples of the task:")
            parts += [pr.example_block(e, self.max_chars) for e in self.task_examples]
        if current["examples"]:
            parts.append(f"Examples the current value (score {current['score']:.4g}) handles badly:")
            parts += [pr.example_block(e, self.max_chars) for e in current["examples"]]
        parts.append(
            f"Step {self.steps}. Propose a new value for {self.name} (kind {self.param.kind}) that "
            "differs from every value above and should score higher than all of them. Reply "
            'in JSON with keys "reasoning" and "suggestion" (a map from the variable name to '
            f'its new value), like {{"reasoning": "...", "suggestion": {{"{self.name}": "..."}}}}.')
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(parts)}]

    # -- the step -----------------------------------------------------------------
    def step(self) -> list[Proposal]:
        """Sample k proposals, score the valid new ones, apply the best if it beats the current."""
        p = self.param
        if self.score_of(p.value) is None:
            self._score(p.value)
        base = float(self.score_of(p.value))  # type: ignore[arg-type]
        messages = self.meta_prompt()
        replies = self.llm.sample(messages, self.k, temperature=self.temperature, purpose=self.purpose)
        # First score every valid new proposal, then log all of them in sample order.
        outcomes: list[tuple[Any, dict[str, Any], str | None]] = []  # (value, meta, rejection or None)
        for i, reply in enumerate(replies):
            meta: dict[str, Any] = {"prompt": messages, "reply": reply.text, "sample_index": i}
            try:
                value = p.validate(pr.coerce(p, pr.json_value(reply.text, self.name)))
            except (pr.ReplyError, InvalidValueError) as exc:
                outcomes.append((pr.clip(reply.text, self.max_chars), meta, f"invalid: {exc}"))
                continue
            known = self.score_of(value)
            if known is not None:
                meta["score"] = known
                outcomes.append((value, meta, f"already tried (score {known:.4g})"))
                continue
            meta["score"] = self._score(value)["score"]
            outcomes.append((value, meta, None))
        fresh = [o for o in outcomes if o[2] is None]
        winner = max(fresh, key=lambda o: o[1]["score"], default=None)
        proposals = []
        for value, meta, why in outcomes:
            if why is None and winner is not None and meta is winner[1] and meta["score"] > base + self.min_gain:
                proposals.append(self.propose(p, value, meta=meta,
                                              reason=f"score {meta['score']:.4g} beats the current {base:.4g}"))
                continue
            if why is None:
                why = (f"score {meta['score']:.4g} does not beat the current {base:.4g}"
                       if meta["score"] <= base + self.min_gain
                       else f"score {meta['score']:.4g} is below this step's best {winner[1]['score']:.4g}")  # type: ignore[index]
            proposals.append(self._reject(value, why, meta))
        self.steps += 1
        return proposals

    def _reject(self, value: Any, reason: str, meta: dict[str, Any]) -> Proposal:
        proposal = Proposal(step=self.steps, parameter=self.name, old=self.param.value,
                            new=value if isinstance(value, (str, int, float, list, dict)) else pr.show(value),
                            accepted=False, reason=reason, meta=meta)
        return self.record(proposal)

    # -- resumable state ----------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"history": json.loads(json.dumps(self.history))}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        history = state.get("history", [])
        if not isinstance(history, list) or not all(
                isinstance(h, dict) and {"value", "score"} <= set(h) for h in history):
            raise StateError("OPRO state: 'history' must be a list of {value, score, ...} entries")
        self.history = [{"value": h["value"], "score": float(h["score"]), "step": int(h.get("step", 0)),
                         "examples": list(h.get("examples", []))} for h in history]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _example_fields(e: Any) -> dict[str, Any]:
    """An example as {input, output, expected, feedback} (the keys it has)."""
    if isinstance(e, Mapping):
        raw = dict(e)
        if "target" in raw and "expected" not in raw:
            raw["expected"] = raw.pop("target")
        unknown = set(raw) - set(EXAMPLE_FIELDS)
        if unknown:
            raise ValueError(f"OPRO: example keys {sorted(unknown)} are not known; use {list(EXAMPLE_FIELDS)}")
        return {k: raw[k] for k in EXAMPLE_FIELDS if raw.get(k) is not None}
    if hasattr(e, "input"):
        return {"input": e.input, **({"expected": e.target} if hasattr(e, "target") else {})}
    raise TypeError(f"OPRO: an example must be a dict or have an `input` attribute, got {type(e).__name__}")
