"""Chain-of-thought question answering with a trainable instruction and answer extractor.

The agent asks the model with a system instruction (a `text` parameter), then
pulls the final answer out of the reply with `extract_answer`, whose source is a
trainable `code` parameter. Both receive feedback through the traced graph, so an
optimizer can rewrite the instruction, the extractor, or both.

    from undertow.engine.llm import make_llm
    agent = ChainOfThoughtQA(make_llm("sim"))
    answer = agent("not ( True ) and ( True ) is")     # a node; answer.value is the text
"""

from __future__ import annotations

from typing import Any

from undertow.engine import Module, Node, Parameter, op
from undertow.engine.llm.traced import llm_call

DEFAULT_INSTRUCTION = (
    "Answer the question. Think step by step, then end your reply with a last line "
    'of the form "Answer: X".'
)


class ChainOfThoughtQA(Module):
    """Ask, reason, extract: one LLM call and one parsing step per question.

    Args:
        llm: an `undertow.engine.llm.LLM` (any backend, `sim` offline).
        instruction: the initial system instruction.
        purpose: the accounting purpose of the calls.
    """

    def __init__(self, llm: Any, instruction: str = DEFAULT_INSTRUCTION, *, purpose: str = "forward") -> None:
        self.llm = llm
        self.purpose = purpose
        self.instruction = Parameter(
            instruction, name="instruction",
            description="system instruction for answering; the reply's last line should carry the answer",
        )

    @op(trainable=True)
    def extract_answer(self, reply: str) -> str:
        """The final answer in a model reply: the text after the last "Answer:", else the last line."""
        lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
        for line in reversed(lines):
            if line.lower().startswith("answer:"):
                return line.split(":", 1)[1].strip()
        return lines[-1] if lines else ""

    def __call__(self, question: Any) -> Node:
        """The extracted answer to `question` (a string or a node), as a traced node."""
        reply = llm_call(self.llm, question, system=self.instruction, purpose=self.purpose)
        return self.extract_answer(reply)
