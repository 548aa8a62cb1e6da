"""SPO: self-supervised prompt optimization, with no labels and no metric.

The algorithm of "Self-Supervised Prompt Optimization" (Xiang et al., 2025), in this
library's terms (docs/prompt-optimizers.md). Each round (one ``step()``):

1. draw a few inputs (their targets are never read: the program is `Unlabeled`);
2. run the current best prompt on them, and show the optimizer model the prompt and
   its outputs, asking for a better prompt (it sees no expected answer);
3. run the new prompt on the same inputs;
4. ask a judge model which side's outputs are better, twice, with the sides swapped
   (``A`` = current, then ``A`` = new). The new prompt wins only when both
   judgements pick it; a split verdict (position bias) or an unreadable one keeps the
   current prompt.

Each round works on one text parameter of the program (round-robin). ``verdicts``
records every pair of judgements.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from undertow.engine import StateError
from undertow.engine.llm import LLM, run_sync
from undertow.engine.llm.structured import StructuredOutputError, extract_json
from undertow.optimizers.base import Proposal
from undertow.optimizers.program import Program, Rollout, Unlabeled, gather
from undertow.optimizers.prompts.common import JSON_REPLY, ProgramOptimizer, rollout_blocks
from undertow.optimizers.search.prompting import _esc, parse_suggestion, variable_block


def improve_request(name: str, prompt: str, rollouts: Sequence[Rollout]) -> str:
    """Ask for a better prompt from the prompt and its outputs alone (no labels)."""
    return (f"{variable_block(name, prompt)}\nThe model followed the prompt above on these inputs "
            f"and wrote these outputs (no reference answers exist):\n"
            f"{rollout_blocks(rollouts, name, labels=False)}\n"
            "Read the outputs critically: where is the reasoning wrong, vague or badly "
            "formatted? Write an improved value of the variable that makes the outputs "
            f"better. {JSON_REPLY}")


def judge_request(inputs: Sequence[str], first: Sequence[str], second: Sequence[str]) -> str:
    """Ask which of two responses (A, B) to the same inputs is better."""
    def side(label: str, outputs: Sequence[str]) -> str:
        blocks = "\n".join(f"<example>\n<input>{_esc(i)}</input>\n<output>{_esc(o)}</output>\n</example>"
                           for i, o in zip(inputs, outputs))
        return f'<response name="{label}">\n{blocks}\n</response>'
    return ("Two assistants answered the same inputs. Judge which response is better: more "
            "correct, better reasoned, clearer. There are no reference answers; decide from "
            f"the inputs and outputs.\n{side('A', first)}\n{side('B', second)}\n"
            "Which response is better? Reply in JSON with keys \"reasoning\" and \"better\" "
            "(\"A\" or \"B\").")


def parse_verdict(text: str) -> str | None:
    """"A", "B", or None when the reply names neither clearly."""
    try:
        data = extract_json(text)
    except StructuredOutputError:
        data = None
    if isinstance(data, dict):
        for key in ("better", "winner", "choice", "answer"):
            v = data.get(key)
            if isinstance(v, str) and v.strip().upper().strip('"').removeprefix("RESPONSE ") in ("A", "B"):
                return v.strip().upper().strip('"').removeprefix("RESPONSE ")
        return None
    found = set(re.findall(r"\b(?:response|better)\s*[:=]?\s*\"?([AB])\b", text, re.IGNORECASE))
    return found.pop().upper() if len(found) == 1 else None


class SPO(ProgramOptimizer):
    """Self-supervised prompt optimization: pairwise judgements of outputs, no labels.

    Args:
        program: what to optimize; SPO wraps it in `Unlabeled`, so it never reads a
            target or the metric, whatever it is given.
        llm: the optimizer model (new prompts); ``judge`` the judge (default ``llm``).
        train: the items whose *inputs* SPO may use.
        n_inputs: inputs per round.
        temperature: sampling temperature of the improvement request.
        seed: seeds the input draws.
    """

    def __init__(self, program: Program, llm: LLM, *, train: Sequence[Any], judge: LLM | None = None,
                 n_inputs: int = 3, temperature: float = 0.7, seed: int = 0) -> None:
        super().__init__(Unlabeled(program), train=train, seed=seed)
        if n_inputs < 1:
            raise ValueError(f"n_inputs must be >= 1, got {n_inputs}")
        self.llm, self.judge = llm, judge or llm
        self.n_inputs, self.temperature = n_inputs, temperature
        # One entry per round: {"param", "candidate", "verdicts": [first, swapped], "winner"}.
        self.verdicts: list[dict[str, Any]] = []

    async def _judge(self, inputs: list[str], cur: list[str], new: list[str]) -> tuple[str | None, str | None]:
        """(verdict with A=current, verdict with A=new), each "A", "B" or None."""
        replies = await gather([self.judge.acomplete(judge_request(inputs, cur, new), purpose="judge"),
                                self.judge.acomplete(judge_request(inputs, new, cur), purpose="judge")])
        self.spend("judge", requests=2)
        return parse_verdict(replies[0].text), parse_verdict(replies[1].text)

    async def astep(self) -> list[Proposal]:
        param = self.target()
        name = param.label
        rng = random.Random(f"{self.seed}:spo:{self.steps}")
        items = rng.sample(self.train, min(self.n_inputs, len(self.train)))
        values = self.program.current()
        cur = await self.program.arun(values, items)
        self.spend("forward", rollouts=len(cur))
        reply = await self.llm.acomplete(improve_request(name, param.value, cur), purpose="optimizer",
                                         temperature=self.temperature, sample_index=self.steps % 1000)
        self.spend("propose", requests=1)
        candidate = self.valid(param, parse_suggestion(reply.text, name))
        record: dict[str, Any] = {"param": name, "candidate": candidate, "verdicts": [None, None],
                                  "winner": "current"}
        self.verdicts.append(record)
        self.steps += 1
        if candidate is None or candidate == param.value:
            record["winner"] = "current (no new prompt)"
            return []
        new = await self.program.arun(self.program.with_value(name, candidate, values), items)
        self.spend("forward", rollouts=len(new))
        first, swapped = await self._judge([it.input for it in items], [r.output for r in cur],
                                           [r.output for r in new])
        record["verdicts"] = [first, swapped]
        if first == "B" and swapped == "A":
            record["winner"] = "new"
            return self.apply(name, candidate, reason="SPO: the judge preferred it in both orders",
                              meta={"verdicts": [first, swapped], "inputs": len(items)})
        record["winner"] = "current" if first == "A" and swapped == "B" else "current (split or unclear verdict)"
        return []

    def step(self) -> list[Proposal]:
        """One round: propose from outputs, judge both orders, keep the winner."""
        return run_sync(self.astep())

    def extra_state(self) -> dict[str, Any]:
        return {**self.base_state(), "verdicts": [dict(v) for v in self.verdicts]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        verdicts = state.get("verdicts", [])
        if not isinstance(verdicts, list) or not all(isinstance(v, dict) for v in verdicts):
            raise StateError("SPO state: 'verdicts' must be a list of round records")
        self.load_base_state(state)
        self.verdicts = [dict(v) for v in verdicts]
