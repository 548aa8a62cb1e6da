"""TextGrad-style descent: rewrite each parameter from the critiques written about it.

The loop is the usual one, with the textual propagator:

    backward(outputs, feedback, TextualPropagator(critic_llm))
    TextGrad(params, llm).step()

`backward` leaves on each parameter a `TextualFeedback` whose `critiques` say how the
parameter should change (the "textual gradient"). `step()` sends one request per
parameter that received critiques (all at once, through `complete_many`): the
parameter as a `<variable>` block with its constraints, each critique as a labelled
`<feedback>` example, optionally the last few values with their critiques (momentum),
and a request for the improved value between `<IMPROVED_VARIABLE>` tags. The value
read from the reply is applied through `Optimizer.propose`: it must fit the
parameter's kind and constraints, and a reply without a readable value changes
nothing. Every request, reply and outcome goes to the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter, StateError, TextualFeedback
from undertow.optimizers import _prompting as pr
from undertow.optimizers.base import Optimizer, Proposal

TAG = "IMPROVED_VARIABLE"

SYSTEM = (
    "You improve one variable of a system that an optimizer is training. You receive the "
    "variable's current value and critiques of how it should change; you return a better "
    "value that addresses the critiques, keeps what already works, and respects the "
    "variable's kind and constraints."
)


class TextGrad(Optimizer):
    """Textual gradient descent over text, code and other parameters.

    Args:
        parameters: the parameters (a list, or a `Module`).
        llm: the optimizer model (an `undertow.engine.llm.LLM`).
        momentum: how many past values (with the critiques they received) each request
            shows, oldest first; 0 shows none.
        purpose: the accounting purpose of the requests.
        max_chars: the longest value or critique shown in a request.
        max_critiques: at most this many critiques per parameter per step (the first
            ones, in the order backward produced them); the request says how many were left out.
        temperature: sampling temperature of the requests.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, llm: Any, *, momentum: int = 0,
                 purpose: str = "optimizer", max_chars: int = 4000, max_critiques: int = 16,
                 temperature: float = 0.0) -> None:
        super().__init__(parameters)
        if momentum < 0 or max_chars < 1 or max_critiques < 1:
            raise ValueError("TextGrad: momentum must be >= 0, max_chars and max_critiques >= 1")
        self.llm = llm
        self.momentum = momentum
        self.purpose = purpose
        self.max_chars = max_chars
        self.max_critiques = max_critiques
        self.temperature = temperature
        # Per parameter name: past {"step", "value", "critiques", "accepted"}, oldest first.
        self.memory: dict[str, list[dict[str, Any]]] = {}

    # -- the request --------------------------------------------------------------
    def critiques_of(self, param: Parameter) -> list[str]:
        """The critiques `param` received since the last `zero_feedback`.

        `TextualFeedback` gives its critiques; plain strings count as critiques too.
        Other feedback (e.g. `SubgraphFeedback`) is a usage error: TextGrad needs the
        textual propagator.
        """
        out: list[str] = []
        for fb in param.feedback:
            if isinstance(fb, TextualFeedback):
                out.extend(str(c) for c in fb.critiques if str(c).strip())
            elif isinstance(fb, str):
                out.append(fb)
            else:
                raise TypeError(
                    f"TextGrad reads critiques, but {self.names[id(param)]!r} received a "
                    f"{type(fb).__name__}; run backward(outputs, feedback, TextualPropagator(llm))")
        return out

    def request(self, param: Parameter, critiques: list[str]) -> list[dict[str, str]]:
        """The messages asking for an improved value of `param`, given its critiques."""
        name = self.names[id(param)]
        shown = critiques[: self.max_critiques]
        parts = [pr.variable_block(name, param, self.max_chars)]
        past = self.memory.get(name, [])[-self.momentum:] if self.momentum else []
        if past:
            parts.append(f"Earlier values of {name}, oldest first, with the critiques they received:")
            for m in past:
                crit = " | ".join(pr.clip(c, self.max_chars // 4) for c in m["critiques"][:3])
                parts.append(f'<past_value step="{m["step"]}">{pr.clip(pr.show(m["value"]), self.max_chars)}'
                             f"</past_value>\nCritiques then: {crit}")
        parts.append(f"Critiques of the current value of {name} ({len(shown)}):")
        parts += [pr.example_block({"feedback": pr.clip(c, self.max_chars)}, self.max_chars) for c in shown]
        if len(critiques) > len(shown):
            parts.append(f"({len(critiques) - len(shown)} more critiques not shown.)")
        parts.append(
            f"Write the improved variable {name}: a new value that addresses the critiques "
            f"and keeps the kind {param.kind}. Explain your reasoning briefly, then give the "
            f"new value between <{TAG}> and </{TAG}>.")
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(parts)}]

    # -- the step -----------------------------------------------------------------
    def step(self) -> list[Proposal]:
        """One request per parameter that received critiques; apply the valid replies.

        All requests are sent before any value changes, so an LLM error (a budget
        stop, say) leaves every parameter as it was.
        """
        todo = [(p, c) for p in self.parameters if (c := self.critiques_of(p))]
        requests = [self.request(p, c) for p, c in todo]
        replies = self.llm.complete_many(requests, purpose=self.purpose,
                                         temperature=self.temperature) if requests else []
        proposals = []
        for (p, critiques), messages, reply in zip(todo, requests, replies, strict=True):
            name = self.names[id(p)]
            old = p.value
            meta = {"prompt": messages, "reply": reply.text, "critiques": critiques}
            try:
                value = pr.coerce(p, pr.tagged(reply.text, TAG))
            except pr.ReplyError as exc:
                proposal = self._reject(p, reply.text, f"unreadable reply: {exc}", meta)
            else:
                if value == old:
                    proposal = self._reject(p, value, "no change: the reply repeats the current value", meta)
                else:
                    proposal = self.propose(p, value, reason=f"addresses {len(critiques)} critique(s)", meta=meta)
            self.memory.setdefault(name, []).append(
                {"step": self.steps, "value": old, "critiques": critiques, "accepted": proposal.accepted})
            del self.memory[name][: -max(self.momentum, 1)]
            proposals.append(proposal)
        self.steps += 1
        return proposals

    def _reject(self, param: Parameter, value: Any, reason: str, meta: dict[str, Any]) -> Proposal:
        proposal = Proposal(step=self.steps, parameter=self.names[id(param)], old=param.value,
                            new=pr.show(value) if not isinstance(value, (str, int, float)) else value,
                            accepted=False, reason=reason, meta=meta)
        return self.record(proposal)

    # -- resumable state ----------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"memory": {k: [dict(m) for m in v] for k, v in self.memory.items()}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        memory = state.get("memory", {})
        if not isinstance(memory, dict):
            raise StateError("TextGrad state: 'memory' must be a map from parameter name to a list")
        self.memory = {str(k): [dict(m) for m in v] for k, v in memory.items()}
