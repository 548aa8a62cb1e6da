"""Reference agents on the simulated LLM (llm=sim): CoT QA, ReAct, code agent."""

from __future__ import annotations

import random

import pytest
from undertow.agents.code_agent import CodeAgent
from undertow.agents.cot_qa import ChainOfThoughtQA
from undertow.agents.react import ReActAgent, parse_step
from undertow.bench.tasks.reasoning import boolean_expressions as be
from undertow.engine import (
    ErrorNode,
    ExecutionError,
    Node,
    Parameter,
    backward,
    capture,
)
from undertow.engine.llm import LLM, make_llm
from undertow.engine.llm.types import Reply


@pytest.fixture
def llm():
    return make_llm("sim", cache_dir=False, profiles=[be.PROFILE])


def test_cot_agent_answers_and_both_parameters_get_feedback(llm):
    agent = ChainOfThoughtQA(llm)
    items = [be.generate(random.Random(i)) for i in range(30)]
    answers = [agent(ex.input) for ex in items]
    accuracy = sum(be.score(a.value, ex.target) for a, ex in zip(answers, items)) / len(items)
    assert accuracy > 0.3
    backward(answers, ["Correct" if be.score(a.value, ex.target) else f"Wrong: expected {ex.target}"
                       for a, ex in zip(answers, items)])
    names = dict(agent.named_parameters())
    assert set(names) == {"extract_answer.code", "instruction"}
    assert names["instruction"].feedback and names["extract_answer.code"].feedback
    for p in names.values():
        p.zero_feedback()


def test_cot_extractor_reads_answer_lines():
    agent = ChainOfThoughtQA(make_llm("sim", cache_dir=False))
    with_node = agent.extract_answer(Node("Let me think.\nAnswer: False\n"))
    assert with_node.value == "False"
    assert agent.extract_answer(Node("so it is True")).value == "so it is True"


class ScriptBackend:
    """A backend replaying fixed replies: a model that follows the ReAct protocol
    (the simulator answers task items directly instead)."""

    provider, endpoint = "script", "script://"

    def __init__(self, replies):
        self.replies = list(replies)

    def complete(self, request, *, timeout=None, stream=False):
        return Reply(text=self.replies.pop(0), prompt_tokens=1, completion_tokens=1, model="script")

    async def acomplete(self, request, **kw):
        return self.complete(request)

    def close(self):
        pass


def test_react_agent_uses_tools_and_traces_the_trajectory():
    def calculator(expr: str) -> str:
        """Evaluates integer arithmetic."""
        return str(eval(expr, {"__builtins__": {}}))

    script = LLM(ScriptBackend([
        "Thought: compute it\nAction: calculator[6 * 7]",
        "Thought: unknown tool\nAction: search[x]",
        "Final Answer: 42",
    ]), model="script")
    agent = ReActAgent(script, {"calculator": calculator})
    answer = agent("What is six times seven?")
    assert answer.value == "42"
    backward(answer, "Correct, but use fewer steps.")
    (fb,) = agent.prompt.feedback
    ops = [n.op.name for n in fb.nodes if n.op is not None]
    assert ops.count("llm") == 3 and "call_tool" in ops
    observations = [n.value for n in fb.nodes if n.op is not None and n.op.name == "call_tool"]
    assert observations[0] == "42" and "no tool named 'search'" in observations[1]


def test_react_agent_takes_a_direct_answer_from_the_simulator(llm):
    agent = ReActAgent(llm, {"noop": lambda s: s})
    out = agent("not ( True ) and ( True ) is")
    assert isinstance(out, Node) and out.value


@pytest.mark.parametrize("reply, expected", [
    ("Action: calc[1+1]", {"kind": "action", "tool": "calc", "input": "1+1"}),
    ("Thought: x\nFinal Answer: yes", {"kind": "final", "answer": "yes"}),
    ("just this", {"kind": "final", "answer": "just this"}),
    ("", {"kind": "final", "answer": ""}),
])
def test_react_parser(reply, expected):
    assert parse_step(Node(reply)).value == expected


def test_code_agent_runs_new_code_and_errors_point_into_it():
    agent = CodeAgent("def solve(xs):\n    return sorted(xs)\n", description="sort ascending")
    assert agent([3, 1, 2]).value == [1, 2, 3]
    agent.code.value = "def solve(xs):\n    total = 0\n    return xs[0] / total\n"
    err = capture(agent, [1])
    assert isinstance(err, ErrorNode) and err.lineno == 3 and "xs[0] / total" in err.source_line
    assert agent.code in err.parents
    backward(err, "do not divide")
    assert agent.code.feedback
    with pytest.raises(ExecutionError):
        agent([1])


def test_code_agent_signature_is_enforced_and_executor_is_used():
    calls = []

    def executor(source, name, args, kwargs):
        calls.append(name)
        ns: dict = {}
        exec(source, ns)  # noqa: S102 - test executor
        return ns[name](*args, **kwargs)

    agent = CodeAgent("def add(a, b):\n    return a + b\n", executor=executor)
    assert agent(Parameter(2, name="a"), 3).value == 5 and calls == ["add"]
    with pytest.raises(ValueError, match="signature changed"):
        agent.code.value = "def add(a):\n    return a\n"
    with pytest.raises(ValueError, match="def name"):
        CodeAgent("x = 1")


def test_code_agent_runs_in_the_sandbox_unless_told_otherwise():
    import os

    src = "def where():\n    import os\n    return os.getpid()\n"
    assert CodeAgent(src)().value != os.getpid()
    assert CodeAgent(src, executor="in-process")().value == os.getpid()
    with pytest.raises(ValueError, match="executor must be"):
        CodeAgent(src, executor="elsewhere")
