"""A ReAct agent: think, call a tool, read the observation, repeat, answer.

The model's replies follow a small protocol stated in the (trainable) system
prompt:

    Thought: <reasoning>
    Action: <tool name>[<input>]
    ...
    Final Answer: <answer>

Every model call, parse and tool call is a traced node, so feedback on the final
answer reaches the system prompt through the whole trajectory. Tools are plain
Python callables taking one string. A reply that follows neither form is taken as
the final answer (models often answer directly), and the step limit ends a loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from undertow.engine import Module, Node, Parameter, op
from undertow.engine.llm.traced import llm_call

_ACTION = re.compile(r"^\s*Action:\s*([A-Za-z_][\w-]*)\s*\[(.*)\]\s*$", re.MULTILINE)
_FINAL = re.compile(r"^\s*Final Answer:\s*(.*)$", re.MULTILINE | re.DOTALL)

DEFAULT_PROMPT = (
    "Solve the task. You may use tools. Reply in this format:\n"
    "Thought: what you will do next\n"
    "Action: tool_name[input]\n"
    "After each action you will see an Observation. When you know the answer, reply\n"
    "Final Answer: the answer\n"
    "Tools:\n{tools}"
)


@op
def parse_step(reply: str) -> dict[str, str]:
    """Read one model reply: {"kind": "action", "tool", "input"} or {"kind": "final", "answer"}."""
    action = _ACTION.search(reply)
    final = _FINAL.search(reply)
    if action and (not final or action.start() < final.start()):
        return {"kind": "action", "tool": action.group(1), "input": action.group(2).strip()}
    if final:
        return {"kind": "final", "answer": final.group(1).strip()}
    lines = [line for line in reply.strip().splitlines() if line.strip()]
    return {"kind": "final", "answer": lines[-1].strip() if lines else ""}


@op
def call_tool(step: dict[str, str], tools: dict[str, Callable[[str], Any]]) -> str:
    """Run the tool a step names on its input; unknown tools and tool errors become observations."""
    tool = tools.get(step["tool"])
    if tool is None:
        return f"Error: no tool named {step['tool']!r}; available: {', '.join(sorted(tools))}"
    try:
        return str(tool(step["input"]))
    except Exception as exc:  # noqa: BLE001 - a tool failure is information for the model
        return f"Error: {type(exc).__name__}: {exc}"


@op
def extend(transcript: str, reply: str, observation: str) -> str:
    """The conversation so far, with one more model reply and its observation."""
    return f"{transcript}\n{reply.strip()}\nObservation: {observation}"


@op
def final_answer(step: dict[str, str]) -> str:
    """The answer of a final step ("" for an action step: no answer was given)."""
    return step.get("answer", "")


class ReActAgent(Module):
    """Tool-using agent with a trainable system prompt.

    Args:
        llm: an `undertow.engine.llm.LLM`.
        tools: name -> callable(str) -> result; their docstrings describe them to the model.
        prompt: the system prompt template (`{tools}` is filled with the tool list).
        max_steps: most model calls per question.
    """

    def __init__(self, llm: Any, tools: dict[str, Callable[[str], Any]], *, prompt: str = DEFAULT_PROMPT,
                 max_steps: int = 6) -> None:
        if not tools:
            raise ValueError("a ReAct agent needs at least one tool")
        self.llm = llm
        self.tools = dict(tools)
        self.max_steps = max_steps
        listing = "\n".join(f"- {name}: {(fn.__doc__ or '').strip().splitlines()[0] if fn.__doc__ else name}"
                            for name, fn in sorted(self.tools.items()))
        self.prompt = Parameter(prompt.replace("{tools}", listing), name="react_prompt",
                                description="system prompt stating the Thought/Action/Final Answer protocol")

    def __call__(self, question: Any) -> Node:
        """Run the loop on `question`; the final answer as a traced node."""
        transcript: Any = question
        for _ in range(self.max_steps):
            reply = llm_call(self.llm, transcript, system=self.prompt)
            step = parse_step(reply)
            if step.value["kind"] == "final":
                return final_answer(step)
            transcript = extend(transcript, reply, call_tool(step, self.tools))
        return final_answer(parse_step(llm_call(
            self.llm, extend(transcript, "", "Step limit reached: give the Final Answer now."),
            system=self.prompt)))
