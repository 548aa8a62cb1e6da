"""The curator role writes the operations a request defines, by meaning, in its own words."""

from __future__ import annotations

import json

from undertow.bench.sim import SimLLM
from undertow.bench.tasks.reasoning import boolean_expressions as be

from .test_optimizer_role import failing_examples

SIM = SimLLM([be.PROFILE])


def _request(ops: str) -> list[dict]:
    shown = "\n".join(f"<example>\n<input>{i}</input>\n<output>{o}</output>\n<expected>{e}</expected>\n"
                      "</example>" for i, o, e in failing_examples("and_before_or", 3, 4))
    return [{"role": "user", "content":
             f'<variable name="system_prompt" kind="text">Evaluate the expression.</variable>\n'
             f"Known insights: none.\n{shown}\nDraw insights from these failures. {ops} Reply in JSON "
             'with keys "reasoning" and "operations".'}]


def test_renamed_operations_and_fields_are_used() -> None:
    reply = json.loads(SIM.complete(_request(
        'Each operation is NEW_RULE (with "rule", "when", "tags", "demo") or SUPPORT (with '
        '"target").')).text)
    adds = [op for op in reply["operations"] if op["op"] == "NEW_RULE"]
    assert adds and set(adds[0]) == {"op", "rule", "when", "tags", "demo"}
    assert be.PROFILE.skill("and_before_or").taught_by(adds[0]["rule"])


def test_undertow_names_stay_as_they_are() -> None:
    reply = json.loads(SIM.complete(_request(
        'Each operation is ADD (with "explanation", "condition", "taxonomy", "example") or '
        'UPVOTE (with "id").')).text)
    assert {op["op"] for op in reply["operations"]} <= {"ADD", "UPVOTE"}
    assert all(set(op) == {"op", "explanation", "condition", "taxonomy", "example"}
               for op in reply["operations"] if op["op"] == "ADD")
