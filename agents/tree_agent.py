"""A test-time tree-search agent (tree of thoughts / LATS style) for many items at once.

One tree per question, all B trees in one vectorised store, so selection and backup
are one kernel call per iteration for the whole batch, and every LLM call of an
iteration, over all questions, runs concurrently.

A node is an *attempt*: the context it was answered under (the system prompt plus
reflections on earlier attempts), the model's reply, and the reply's value. Each
iteration, per tree:

1. select a leaf by UCT (``descend``);
2. expand it: sample ``k`` replies (temperature > 0, distinct sample indices) under the
   leaf's context, extended with the leaf's own reflection when it has one (LATS: a
   failed attempt's critique guides its children);
3. evaluate each reply by self-evaluation: the LLM critiques the (question, reply)
   pair and gives a verdict; the value is 1 (judged correct), 0 (judged wrong) or
   0.5 (no verdict); the critique becomes the node's reflection. ``value_fn`` can
   replace this with any verifier (unit tests, a checker, a reward model);
4. back up the best child value along the path.

A tree stops once an attempt is judged correct. The answer of a tree is the reply of
highest value, ties broken by how many attempts reached the same final answer
(self-consistency), then by the earliest.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from undertow.engine.llm import LLM, run_sync
from undertow.engine.llm.structured import StructuredOutputError, extract_json
from undertow.optimizers.search.forest import FLAG_TERMINAL, Forest
from undertow.optimizers.tree import TreeBackend

#: ``value_fn(question, reply) -> (value in [0, 1], reflection text)``, sync or async.
ValueFn = Callable[[str, str], Any]

_WRONG = re.compile(r"\b(is|was|looks)\s+(wrong|incorrect|not correct)\b", re.IGNORECASE)
_RIGHT = re.compile(r"\b(is|was|looks)\s+(correct|right)\b", re.IGNORECASE)


@dataclass
class Attempt:
    """One node: the context answered under, the reply, its value and reflection."""

    context: str
    reply: str = ""
    value: float = 0.0
    reflection: str = ""
    depth: int = 0


@dataclass
class TreeAnswer:
    """The agent's answer to one question, and how the search got there."""

    question: str
    reply: str
    value: float
    attempts: int
    iterations: int
    votes: int


def final_answer(reply: str) -> str:
    """The final answer of a reply, for voting: after the last "Answer:", else its last line."""
    m = list(re.finditer(r"answer(?:\s+is)?\s*[:=]?\s*", reply, flags=re.IGNORECASE))
    tail = reply[m[-1].end():] if m else (reply.strip().splitlines() or [""])[-1]
    return " ".join(tail.strip().strip(".*\"'").lower().split())


def verdict_value(critique_reply: str) -> tuple[float, str]:
    """Value and reflection from a self-evaluation reply (JSON verdict, else the wording).

    A "verdict" key saying correct/wrong decides; otherwise the critique's own words do
    ("... is wrong because ..." -> 0, "... is correct" -> 1); anything else is 0.5.
    """
    critique, verdict = critique_reply.strip(), ""
    try:
        data = extract_json(critique_reply)
    except StructuredOutputError:
        data = None
    if isinstance(data, dict):
        critique = str(data.get("critique") or critique).strip()
        verdict = str(data.get("verdict") or "").strip().lower()
    if verdict in {"correct", "right", "true", "yes"}:
        return 1.0, critique
    if verdict in {"wrong", "incorrect", "false", "no"}:
        return 0.0, critique
    if _WRONG.search(critique):
        return 0.0, critique
    if _RIGHT.search(critique):
        return 1.0, critique
    return 0.5, critique


def critique_request(question: str, reply: str) -> str:
    """The self-evaluation request (docs/sim.md convention: one ``<example>`` block)."""
    return (f"<example>\n<input>{question}</input>\n<output>{reply}</output>\n</example>\n"
            "Critique the output above: is it a correct answer to the input? Reply in JSON "
            "with keys \"critique\" and \"verdict\"; the verdict is correct or wrong.")


class TreeSearchAgent:
    """Answers a batch of questions by tree search, one tree per question.

    Args:
        llm: the model that answers and (by default) evaluates.
        system: the system prompt every tree starts from.
        k: replies sampled per expansion.
        iterations: search iterations (at most ``iterations * k`` attempts per question).
        temperature: sampling temperature of the replies (> 0 for distinct samples).
        exploration: UCT constant c.
        value_fn: replaces LLM self-evaluation: ``(question, reply) -> (value, reflection)``.
        backend: tree backend name or object (default: chosen by the forest's size).
    """

    def __init__(self, llm: LLM, *, system: str = "Answer the question.", k: int = 3,
                 iterations: int = 3, temperature: float = 0.8, exploration: float = 1.0,
                 value_fn: ValueFn | None = None,
                 backend: str | TreeBackend | None = None) -> None:
        if not isinstance(k, int) or k < 1 or not isinstance(iterations, int) or iterations < 1:
            raise ValueError(f"k and iterations must be positive ints, got k={k!r}, "
                             f"iterations={iterations!r}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0 so that the k samples differ, got "
                             f"{temperature}")
        self.llm, self.system, self.k, self.iterations = llm, system, k, iterations
        self.temperature, self.exploration = temperature, exploration
        self.value_fn = value_fn
        self.backend = backend
        self.forest: Forest | None = None

    def solve_many(self, questions: Sequence[str]) -> list[TreeAnswer]:
        """Answers to ``questions``, in order (sync twin of ``asolve_many``)."""
        return run_sync(self.asolve_many(questions))

    async def asolve_many(self, questions: Sequence[str]) -> list[TreeAnswer]:
        """Search one tree per question, all trees batched; return their answers."""
        qs = [str(q) for q in questions]
        if not qs:
            raise ValueError("questions is empty; pass at least one question")
        B = len(qs)
        f = Forest(B, 1 + self.iterations * self.k, backend=self.backend,
                   exploration=self.exploration, payload_codec=(asdict, lambda d: Attempt(**d)))
        self.forest = f
        for b in range(B):
            f.payloads[b, 0] = Attempt(self.system)
        solved = [False] * B
        done_iters = [0] * B
        for it in range(self.iterations):
            leaves = f.descend("uct", 1)[:, 0]
            open_ = [b for b in range(B) if not solved[b] and not f.children(b, int(leaves[b]))
                     and not int(f.host("flags", b)[int(leaves[b])]) & int(FLAG_TERMINAL)]
            kids = await asyncio.gather(*(self._expand(qs[b], f.payloads[b, int(leaves[b])],
                                                       int(leaves[b])) for b in open_))
            slots = np.full(B, -1, dtype=np.int32)
            for b in open_:
                slots[b] = leaves[b]
            first = f.expand(slots, np.where(slots >= 0, self.k, 0).astype(np.int32))
            values = np.array([f.payloads[b, int(leaves[b])].value for b in range(B)])
            for b, attempts in zip(open_, kids):
                if first[b] < 0:
                    continue
                f.payloads.set_children(b, int(first[b]), attempts)
                f.init_children(b, int(first[b]), [a.value for a in attempts])
                values[b] = max(a.value for a in attempts)
                done_iters[b] = it + 1
                if values[b] >= 1.0:
                    solved[b] = True
            f.backup(leaves, values)
            if all(solved):
                break
        return [self._answer(b, qs[b], done_iters[b]) for b in range(B)]

    async def _expand(self, question: str, leaf: Attempt, node: int) -> list[Attempt]:
        context = leaf.context
        if leaf.reflection and leaf.value < 1.0:
            context = (f"{context}\nA previous answer to this question was judged wrong. "
                       f"Reflection on it: {leaf.reflection}")
        messages = [{"role": "system", "content": context}, {"role": "user", "content": question}]
        replies = await asyncio.gather(*(
            self.llm.acomplete(messages, purpose="forward", temperature=self.temperature,
                               sample_index=node * self.k + j) for j in range(self.k)))
        judged = await asyncio.gather(*(self._value(question, r.text) for r in replies))
        return [Attempt(context, r.text, v, refl, leaf.depth + 1)
                for r, (v, refl) in zip(replies, judged)]

    async def _value(self, question: str, reply: str) -> tuple[float, str]:
        if self.value_fn is not None:
            out = self.value_fn(question, reply)
            value, reflection = (await out) if isinstance(out, Awaitable) else out
            return float(min(max(value, 0.0), 1.0)), str(reflection)
        judge = await self.llm.acomplete(critique_request(question, reply), purpose="judge")
        return verdict_value(judge.text)

    def _answer(self, tree: int, question: str, iterations: int) -> TreeAnswer:
        assert self.forest is not None
        attempts = [(n, a) for n, a in self.forest.payloads.tree_items(tree) if n > 0]
        if not attempts:
            return TreeAnswer(question, "", 0.0, 0, iterations, 0)
        votes = Counter(final_answer(a.reply) for _, a in attempts)
        _, best = max(attempts, key=lambda na: (na[1].value, votes[final_answer(na[1].reply)],
                                                -na[0]))
        return TreeAnswer(question, best.reply, best.value, len(attempts), iterations,
                          votes[final_answer(best.reply)])
