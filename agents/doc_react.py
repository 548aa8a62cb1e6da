"""A ReAct agent whose system prompt carries full tool documentation, one trainable doc per tool.

The protocol and the loop are those of `agents/react.py` (its traced `parse_step`,
`call_tool`, `extend` and `final_answer` ops); what differs is the prompt: it is
composed on every call, by a traced op, from a fixed protocol and one text
`Parameter` per tool doc. So an optimizer can rewrite a tool's doc (DRAFT from
exploration, OptoPrime from task feedback) and the agent reads the new doc at once;
feedback on an answer reaches the docs through every model call and tool call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from undertow.agents.react import call_tool, extend, final_answer, parse_step
from undertow.engine import Module, Node, Parameter, op, unwrap
from undertow.engine.llm.traced import llm_call

PROTOCOL = (
    "Solve the task with the tools below. Reply in this format:\n"
    "Thought: what you will do next\n"
    "Action: tool_name[input]\n"
    "After each action you will see an Observation. When you know the answer, reply\n"
    "Final Answer: the answer\n\n"
    "Tool documentation:"
)


@op
def compose_prompt(protocol: str, *docs: str) -> str:
    """The system prompt: the protocol, then every tool's documentation."""
    return protocol + "\n\n" + "\n\n".join(d.strip() for d in docs)


class DocReActAgent(Module):
    """ReAct over `tools` whose docs are trainable text parameters (`self.docs[name]`).

    Args:
        llm: an `undertow.engine.llm.LLM`.
        tools: name -> callable(str) -> observation text.
        docs: name -> the documentation shown for that tool.
        max_steps: most model calls per question.
    """

    def __init__(self, llm: Any, tools: dict[str, Callable[[str], Any]], docs: dict[str, str], *,
                 max_steps: int = 6) -> None:
        missing = sorted(set(tools) - set(docs))
        if not tools or missing:
            raise ValueError(f"every tool needs a doc; missing docs for {missing or 'all (no tools)'}")
        self.llm = llm
        self.tools = dict(tools)
        self.max_steps = max_steps
        self.docs = {name: Parameter(docs[name], name=f"doc_{name}",
                                     description=f"documentation of the {name} tool, shown to the agent")
                     for name in sorted(tools)}

    def system_prompt(self) -> Any:
        """The composed system prompt (a node when tracing)."""
        return compose_prompt(PROTOCOL, *self.docs.values())

    def __call__(self, question: Any) -> Node:
        """Run the loop on `question`; the final answer as a traced node."""
        system = self.system_prompt()
        transcript: Any = question
        for _ in range(self.max_steps):
            reply = llm_call(self.llm, transcript, system=system)
            step = parse_step(reply)
            if unwrap(step)["kind"] == "final":
                return final_answer(step)
            transcript = extend(transcript, reply, call_tool(step, self.tools))
        return final_answer(parse_step(llm_call(
            self.llm, extend(transcript, "", "Step limit reached: give the Final Answer now."),
            system=system)))
