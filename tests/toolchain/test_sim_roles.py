"""The sim roles `tool_step` and `tool_estimate`: same reading of fuzzed rewordings of a
request (labels renamed, sections reordered, instruction reworded or moved to the system
message, JSON or ReAct replies), and better calls from better docs."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.agents.tool_protocol import parse_action, parse_remaining, step_messages
from undertow.bench.sim import SimLLM
from undertow.bench.sim.tool_reading import decision, read_request, remaining
from undertow.bench.tasks.toolworld import make_world

WORLD = make_world(0)
TASKS = WORLD.tasks(seed=5, n=10)

Q_LABELS = ["Question: {q}", "Task: {q}", "Query:\n{q}", "Problem: {q}", "<question>{q}</question>",
            "User request: {q}"]
TOOL_HEADS = ["Tools:", "Available tools:", "## Tools", "You can use these tools:", "TOOLS"]
TOOL_ITEM = ["### {name}\n{doc}", "{doc}", "Tool {name}:\n{doc}", "- {doc}"]
ASK_STEP = ["Reply with the next step only: `Action: tool_name[input]`, or `Final Answer: ...` "
            "when the observations answer the question.",
            "What is your next action? Call one tool as Action: name[input], or give the Final Answer.",
            "Decide the next tool call (Action: tool[args]); if you already know it, write Final Answer: <answer>."]
ASK_STEP_JSON = ('Choose the next tool call. Reply in JSON with keys "tool" and "input", or with the key '
                 '"answer" when done.')
ASK_EST = ["Imagine the rest of the plan and end with 'Remaining steps: N'.",
           "How many more tool calls are needed? List them, then write Remaining steps: N.",
           "Estimate how many steps remain (the rest of the plan), as 'Remaining steps: N'."]
CALL_LABELS = [("Action", "Observation"), ("Call", "Result"), ("Tool call", "Output")]


def _history(steps: list[tuple[str, str, str]], labels: tuple[str, str]) -> str:
    return "\n".join(f"{labels[0]}: {t}[{a}]\n{labels[1]}: {o}" for t, a, o in steps)


def _request(q: str, steps: list[tuple[str, str, str]], ask: str, *, qlabel: str, head: str, item: str,
             labels: tuple[str, str], ask_in_system: bool, tools_first: bool, docs=None) -> list[dict]:
    docs = docs or WORLD.docs()
    tools = head + "\n" + "\n\n".join(item.format(name=n, doc=d) for n, d in sorted(docs.items()))
    question = qlabel.format(q=q)
    hist = _history(steps, labels)
    body = [tools, question] if tools_first else [question, tools]
    if hist:
        body.append(hist)
    if ask_in_system:
        return [{"role": "system", "content": ask}, {"role": "user", "content": "\n\n".join(body)}]
    return [{"role": "system", "content": body[0]},
            {"role": "user", "content": "\n\n".join(body[1:] + [ask])}]


def _prefix(task, n: int) -> list[tuple[str, str, str]]:
    return [(t, a, WORLD.call(t, a)) for t, a in task.plan[:n]]


def _top(messages: list[dict]):
    """The sim's decision before noise: a final answer, or the best-fitting calls."""
    req = read_request("\n".join(m["content"] for m in messages),
                       next(m["content"] for m in messages if m["role"] == "user"))
    assert req is not None
    return decision(req)


layouts = st.fixed_dictionaries({
    "qlabel": st.sampled_from(Q_LABELS), "head": st.sampled_from(TOOL_HEADS),
    "item": st.sampled_from(TOOL_ITEM), "labels": st.sampled_from(CALL_LABELS),
    "ask_in_system": st.booleans(), "tools_first": st.booleans()})


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(TASKS) - 1), st.integers(0, 3), layouts, st.sampled_from(ASK_STEP))
def test_next_call_reads_the_same_in_any_layout(i: int, n: int, layout: dict, ask: str) -> None:
    task = TASKS[i]
    steps = _prefix(task, min(n, len(task.plan)))
    canonical = _request(task.question, steps, ASK_STEP[0], qlabel=Q_LABELS[0], head=TOOL_HEADS[0],
                         item=TOOL_ITEM[0], labels=CALL_LABELS[0], ask_in_system=False, tools_first=True)
    fuzzed = _request(task.question, steps, ask, **layout)
    assert _top(fuzzed) == _top(canonical)
    sim = SimLLM(seed=1)
    reply = sim.complete(fuzzed, temperature=0.7, sample_index=i).text
    action = parse_action(reply)
    # an agent turn: read by tool_step, or by tool_docs_agent when the task is numbered steps
    assert sim.stats.by_role["tool_step"] + sim.stats.by_role["tool_docs_agent"] == 1
    assert action.final or action.tool in WORLD.docs()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(TASKS) - 1), st.integers(0, 3), layouts, st.sampled_from(ASK_EST))
def test_remaining_steps_read_the_same_in_any_layout(i: int, n: int, layout: dict, ask: str) -> None:
    task = TASKS[i]
    steps = _prefix(task, min(n, len(task.plan)))
    fuzzed = _request(task.question, steps, ask, **layout)
    req = read_request("\n".join(m["content"] for m in fuzzed),
                       next(m["content"] for m in fuzzed if m["role"] == "user"))
    assert req is not None
    expected = remaining(req)
    canonical = _request(task.question, steps, ASK_EST[0], qlabel=Q_LABELS[0], head=TOOL_HEADS[0],
                         item=TOOL_ITEM[0], labels=CALL_LABELS[0], ask_in_system=False, tools_first=True)
    creq = read_request("\n".join(m["content"] for m in canonical), canonical[1]["content"])
    assert creq is not None and remaining(creq) == expected
    sim = SimLLM(seed=2)
    got = parse_remaining(sim.complete(fuzzed, temperature=0.0).text)
    assert sim.stats.by_role["tool_estimate"] == 1
    assert abs(got - expected) <= 1


def test_json_reply_when_json_is_asked() -> None:
    task = TASKS[0]
    msgs = _request(task.question, [], ASK_STEP_JSON, qlabel=Q_LABELS[0], head=TOOL_HEADS[0],
                    item=TOOL_ITEM[0], labels=CALL_LABELS[0], ask_in_system=True, tools_first=True)
    data = json.loads(SimLLM(seed=0).complete(msgs, temperature=0.0).text)
    assert data["tool"] in WORLD.docs() and data["input"]


def test_the_estimate_falls_as_steps_are_done() -> None:
    for task in TASKS[:5]:
        seen = []
        for n in range(len(task.plan) + 1):
            msgs = _request(task.question, _prefix(task, n), ASK_EST[0], qlabel=Q_LABELS[0],
                            head=TOOL_HEADS[0], item=TOOL_ITEM[0], labels=CALL_LABELS[0],
                            ask_in_system=False, tools_first=True, docs=WORLD.true_docs())
            req = read_request("\n".join(m["content"] for m in msgs), msgs[1]["content"])
            assert req is not None
            seen.append(remaining(req))
        assert seen[-1] == 0, (task.kind, seen)
        assert seen[0] > 0


def _greedy_success(docs: dict[str, str]) -> float:
    """A sim-driven rollout of the next-call role (temperature 0) over every task."""
    from undertow.agents.tool_protocol import toolbox
    from undertow.optimizers.search.toolchain import Step

    world = WORLD.with_docs(docs)
    box = toolbox(world)
    sim = SimLLM(seed=0)
    tasks = world.tasks(seed=11, n=20)
    score = 0.0
    for t in tasks:
        steps: list[Step] = []
        answer = ""
        for _ in range(6):
            a = parse_action(sim.complete(step_messages(t.question, box.docs, steps), temperature=0.0).text)
            if a.final:
                answer = a.answer or ""
                break
            obs, err = box.run(a.tool, a.args)
            steps.append(Step(a.tool, a.args, obs, err))
        score += world.check(t, answer)
    return score / len(tasks)


def test_better_docs_give_better_calls() -> None:
    shipped, true = _greedy_success(WORLD.docs()), _greedy_success(WORLD.true_docs())
    assert true > shipped + 0.2, (shipped, true)
