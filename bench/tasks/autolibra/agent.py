"""The catalog agent: `undertow.agents.ReActAgent` with the `lookup` tool, recording each
run as an AutoLibra `Trajectory` (thought, tool call, observation and output steps)."""

from __future__ import annotations

import re
from typing import Any

from undertow.agents.react import ReActAgent, call_tool, extend, final_answer, parse_step
from undertow.bench.tasks.autolibra import world
from undertow.engine import Node
from undertow.engine.llm.traced import llm_call
from undertow.optimizers.metrics import Step, Trajectory

#: The starting system prompt: the protocol only, none of the five skills.
INITIAL_PROMPT = (
    "You answer questions about items of a product catalog. Reply in this format:\n"
    "Thought: what you will do next\n"
    "Action: tool_name[input]\n"
    "After each action you will see an Observation. When you are done, reply\n"
    "Final Answer: your answer\n"
    "Tools:\n{tools}")

_THOUGHT = re.compile(r"^\s*Thought:\s*(.*)$", re.MULTILINE)


class _Tools(dict):
    """The tool table with a stable repr: the default one shows function addresses, which
    would make the requests optimizers see (and so the sim's draws) differ between processes."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{name!r}: <tool {name}>" for name in self) + "}"


class CatalogAgent(ReActAgent):
    """A ReAct agent over the catalog; `run(question)` returns (answer node, trajectory)."""

    def __init__(self, llm: Any, prompt: str = INITIAL_PROMPT, max_steps: int = 4) -> None:
        super().__init__(llm, {"lookup": world.lookup}, prompt=prompt, max_steps=max_steps)
        self.tools = _Tools(self.tools)
        self.prompt.name = "system_prompt"
        self.prompt.description = "the system prompt of a tool-using agent answering catalog questions"

    def run(self, question: str, run_id: str = "run") -> tuple[Node, Trajectory]:
        """Answer `question`; the final answer as a traced node, and the trajectory."""
        steps: list[Step] = []

        def add(kind: str, text: str, tool: str | None = None) -> None:
            steps.append(Step(index=len(steps), kind=kind, text=text, tool=tool))  # type: ignore[arg-type]

        transcript: Any = question
        out: Node | None = None
        for _ in range(self.max_steps):
            reply = llm_call(self.llm, transcript, system=self.prompt)
            thought = _THOUGHT.search(str(reply.value))
            if thought:
                add("thought", thought.group(1).strip())
            step = parse_step(reply)
            if step.value["kind"] == "final":
                out = final_answer(step)
                break
            add("tool_call", f"{step.value['tool']}[{step.value['input']}]", step.value["tool"])
            observation = call_tool(step, self.tools)
            add("observation", str(observation.value))
            transcript = extend(transcript, reply, observation)
        if out is None:
            out = final_answer(parse_step(llm_call(
                self.llm, extend(transcript, "", "Step limit reached: give the Final Answer now."),
                system=self.prompt)))
        add("output", str(out.value))
        return out, Trajectory(id=run_id, task=f"catalog: {question}", steps=steps)
