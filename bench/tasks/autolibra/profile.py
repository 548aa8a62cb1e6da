"""What the simulated LLM knows about the `autolibra` catalog agent task.

Five skills a system prompt can teach; each untaught one shows up as a planted failure
mode of the agent (the ground truth AutoLibra should recover):

- `no_repeat`     -> repeats the same tool call (`repeated_call`)
- `use_tools`     -> gives up without using a tool (`gave_up`)
- `no_questions`  -> asks the user for what it could look up (`asked_user`)
- `units`         -> answers with a bare number, no unit (`missing_unit`)
- `concise`       -> an over-long, rambling final answer (`verbose`)

`agent_step` is the task rule the sim's `tool_agent` role follows to play the agent one
Thought/Action/Final Answer step at a time; `FAILURE` says how often an untaught skill fails
where it matters (a taught one slips at `TAUGHT_SLIP`).
"""

from __future__ import annotations

import re

from undertow.bench.sim.profile import Skill, TaskProfile
from undertow.bench.tasks.autolibra import world

TAUGHT_SLIP = 0.03
FAILURE = {"use_tools": 0.2, "no_questions": 0.25, "no_repeat": 0.5, "units": 0.5, "concise": 0.45}
#: skill -> the planted failure mode it prevents
MODES = {"no_repeat": "repeated_call", "use_tools": "gave_up", "no_questions": "asked_user",
         "units": "missing_unit", "concise": "verbose"}

SKILLS = (
    Skill(name="no_repeat", description="call a tool at most once with the same input",
          cues=("not repeat", "never repeat", "same tool ... twice", "same ... call ... twice",
                "avoid ... repeat", "one lookup is enough", "do not call ... again"),
          fix="Never call the same tool twice with the same input: one lookup is enough.",
          keywords=("repeat", "repeats", "repeated", "repeating", "twice", "same query", "same call",
                    "same tool call", "redundant", "duplicate", "again"),
          error="calls the same tool again with the same input"),
    Skill(name="use_tools", description="always look the answer up with a tool before answering",
          cues=("always ... look ... up", "never give up", "use ... tool ... before", "always use ... tool"),
          fix="Always use a tool to look the answer up before answering; never give up without trying.",
          keywords=("give up", "gives up", "gave up", "quit", "without trying", "without even trying",
                    "did not know", "didn't know", "no attempt", "without looking"),
          error="gives up and says it does not know without using a tool"),
    Skill(name="no_questions", description="never ask the user for facts a tool can find",
          cues=("not ask the user", "never ask the user", "don't ask the user", "no questions to the user"),
          fix="Do not ask the user questions: find the facts with the tools instead.",
          keywords=("asked the user", "asks the user", "asking the user", "asked me", "question back",
                    "put the question back", "ask the user"),
          error="asks the user for information it could look up"),
    Skill(name="units", description="give the unit the question asks for with the number",
          cues=("unit", "units"),
          fix="Always state the unit the question asks for after the number.",
          keywords=("unit", "units", "bare number", "no unit", "missing unit"),
          error="answers with a bare number and no unit"),
    Skill(name="concise", description="keep the final answer to one short sentence",
          cues=("concise", "brief", "short answer", "one short sentence", "keep ... answer ... short"),
          fix="Keep the final answer short and concise: one sentence.",
          keywords=("too long", "long", "wordy", "verbose", "rambling", "padded", "on and on",
                    "concisely", "concise", "unnecessary text"),
          error="pads the final answer with long, rambling text"),
)

FILLER = ("I hope this helps with whatever you are planning.",
          "Please note that catalog values can change over time and may be rounded.",
          "If you need any other attribute of this item, such as its size or price, just ask.",
          "It is always a good idea to double-check the packaging before you buy.",
          "Let me know if there is anything else I can look up in the catalog for you today.")


class CatalogAgentProfile(TaskProfile):
    """The catalog questions, their answers, and how the agent behaves without each skill."""

    name = "autolibra_catalog"
    description = "answer questions about catalog items with a lookup tool"
    keywords = ("catalog", "lookup")
    skills = SKILLS
    item_pattern = world.QUESTION

    def solve(self, item: str) -> str:
        return world.answer_of(item)

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        right = world.answer_of(item)
        return right.split(" ")[0] if "units" in missing else right

    def parse_answer(self, reply: str) -> str | None:
        m = re.search(r"(\d+(?:\.\d+)?)\s*(kg|cm|EUR|L)?\b", reply)
        if not m:
            return None
        return f"{m.group(1)} {m.group(2)}" if m.group(2) else m.group(1)

    # -- playing the agent ---------------------------------------------------------------
    def agent_step(self, item: str, actions: list[tuple[str, str]], observations: list[str],
                   missing: frozenset[str], tools: list[str]) -> str:
        """The agent's next reply (Thought + Action, or Thought + Final Answer)."""
        parsed = world.parse_question(item)
        assert parsed is not None
        name, attribute, symbol = parsed
        tool = "lookup" if "lookup" in tools or not tools else tools[0]
        if not actions:
            if "use_tools" in missing:
                return (f"Thought: I do not have this information.\n"
                        f"Final Answer: Sorry, I don't know the {attribute} of the {name}.")
            if "no_questions" in missing:
                return (f"Thought: I need more details from the user.\n"
                        f"Final Answer: Could you tell me the {attribute} of the {name} you mean?")
            return f"Thought: I should look the {name} up.\nAction: {tool}[{name}]"
        seen = " ".join(observations)
        m = re.search(rf"{attribute} (\d+(?:\.\d+)?)", seen)
        if m is None:
            return f"Thought: The lookup did not help.\nFinal Answer: I could not find the {attribute} of the {name}."
        if len(actions) == 1 and "no_repeat" in missing:
            return f"Thought: Let me check that once more.\nAction: {tool}[{name}]"
        value = m.group(1)
        answer = value if "units" in missing else f"{value} {symbol}"
        if "concise" in missing:
            answer = (f"Based on the catalog entry I found for the {name}, its {attribute} is {answer}. "
                      + " ".join(FILLER))
        return f"Thought: I found it.\nFinal Answer: {answer}"


PROFILE = CatalogAgentProfile()
