"""The simulated feedback writer of the `autolibra` task: what a user would say about a run.

Rules (deterministic given the trajectory, the question and a seed):

1. It detects the five planted failure modes from the trajectory alone:
   - `repeated_call`: two identical tool calls;
   - `gave_up`: no tool call and a refusal-like final answer ("don't know", "sorry", "cannot");
   - `asked_user`: no tool call and a final answer that is a question (ends with "?");
   - `missing_unit`: the final answer has the right number but not the unit asked for;
   - `verbose`: a final answer of more than 30 words.
2. For each mode present it writes one complaint, picked (seeded) among four phrasings
   that share few words, so that grouping them is not a string match.
3. With probability 0.6 it adds one piece of praise for something done well (looked the
   item up, gave the unit, kept it short, got the value right), also in varied wording.
4. The scalar score of a run is `score_trajectory`: 1 for the right value with its unit,
   0.5 for the right bare number, 0 otherwise; minus 0.25 for a repeated call and for a
   verbose answer, floored at 0.
"""

from __future__ import annotations

import random
import re

from undertow.bench.tasks.autolibra import world
from undertow.optimizers.metrics import Trajectory

MODES = ("repeated_call", "gave_up", "asked_user", "missing_unit", "verbose")
VERBOSE_WORDS = 30

COMPLAINTS = {
    "repeated_call": ("It looked up the {item} twice with the exact same query.",
                      "The lookup of the {item} was repeated for no reason.",
                      "Calling lookup again on the {item} was redundant; the first result already had it.",
                      "It ran the same tool call two times in a row."),
    "gave_up": ("It gave up on the {attribute} question without even trying the lookup tool.",
                "Instead of searching the catalog it just said it did not know.",
                "It said sorry and quit without looking anything up.",
                "No attempt was made to find the {item}; the agent simply gave up."),
    "asked_user": ("It asked me for the {attribute} of the {item} although the catalog has it.",
                   "Rather than looking it up, it asked the user a question back.",
                   "It put the question back to me instead of checking the tool.",
                   "Asking the user about the {item} was unnecessary; it could have looked it up."),
    "missing_unit": ("The answer {value} has no unit; I asked for {unit}.",
                     "It gave a bare number without saying {unit}.",
                     "The unit was missing from the final answer.",
                     "{value} what? The answer should state the unit."),
    "verbose": ("The final answer was far too long and rambling.",
                "Way too wordy: a short answer would have done.",
                "It padded the answer with lots of unnecessary text.",
                "The reply went on and on instead of giving the {attribute} concisely."),
}
#: The same complaints written with none of the words the sim's concept lexicon lists
#: (`bench/sim/roles/_agent_reading.py`; a test checks it): `--phrasings heldout` of
#: `metrics_evidence` measures how much the lexicon, written beside `COMPLAINTS`, flatters
#: recovery (docs/metrics.md).
HELDOUT_COMPLAINTS = {
    "repeated_call": ("It fetched the {item} entry a second time with an identical request.",
                      "The catalog request for the {item} was issued two separate times, word for word.",
                      "One query for the {item} would have been enough; it sent an identical second one.",
                      "It wasted a step re-sending a request it had already made."),
    "gave_up": ("It abandoned the {attribute} question without consulting the catalog at all.",
                "The agent apologised and stopped, never consulting the catalog.",
                "It declined to answer about the {item} and made no effort to find out.",
                "It threw in the towel right away rather than consulting the catalog."),
    "asked_user": ("It wanted me to supply the {attribute} of the {item} myself, though the catalog holds it.",
                   "It turned my {item} request around and queried me, the customer.",
                   "It expected me to provide the {attribute}, which it should have found on its own.",
                   "It answered my {item} request with a request of its own for the {attribute}."),
    "missing_unit": ("The answer {value} leaves out {unit}; I can't tell the scale.",
                     "It gave {value} alone, without saying {unit}.",
                     "No {unit} came with the figure it gave.",
                     "{value} of which? It should say {unit}."),
    "verbose": ("The final reply dragged on for paragraphs when a single line would do.",
                "Far too much filler around the {attribute}.",
                "I had to wade through a wall of text to find the {attribute}.",
                "The reply could have been a tenth of its size."),
}
PHRASINGS = {"standard": COMPLAINTS, "heldout": HELDOUT_COMPLAINTS}
PRAISE = {
    "looked_up": ("Good that it checked the catalog for the {item} first.",
                  "It looked the {item} up properly before answering."),
    "unit": ("Nice that the answer came with the unit, {unit}.",),
    "short": ("Short and clear answer.", "I liked that the answer was brief."),
    "correct": ("The {attribute} it gave was correct.", "Right value for the {item}."),
}


def _calls(traj: Trajectory) -> list[str]:
    return [s.text for s in traj.steps if s.kind == "tool_call"]


def _output(traj: Trajectory) -> str:
    outs = [s.text for s in traj.steps if s.kind == "output"]
    return outs[-1] if outs else ""


def modes_of(traj: Trajectory, question: str) -> list[str]:
    """The planted failure modes this trajectory shows (ground truth, in `MODES` order)."""
    parsed = world.parse_question(question)
    calls, out = _calls(traj), _output(traj)
    found = []
    if len(calls) != len(set(calls)):
        found.append("repeated_call")
    if not calls and re.search(r"don't know|do not know|sorry|cannot|can't|could not", out, re.I) \
            and not out.rstrip().endswith("?"):
        found.append("gave_up")
    if not calls and out.rstrip().endswith("?"):
        found.append("asked_user")
    if parsed is not None:
        item, attribute, symbol = parsed
        value = world.value_of(item, attribute)
        unit_word = world.ATTRIBUTES[attribute][0]
        if value in out and not re.search(rf"\b{re.escape(symbol)}\b|{unit_word}", out):
            found.append("missing_unit")
    if len(out.split()) > VERBOSE_WORDS:
        found.append("verbose")
    return found


def score_trajectory(traj: Trajectory, question: str) -> float:
    """The task's scalar score of a run (rule 4 of the module docstring)."""
    return score_answer(_output(traj), question, modes_of(traj, question))


def score_answer(answer: str, question: str, modes: list[str] | None = None) -> float:
    """Score of a final answer (and the run's modes, if known)."""
    parsed = world.parse_question(question)
    if parsed is None:
        return 0.0
    item, attribute, symbol = parsed
    value = world.value_of(item, attribute)
    unit_word = world.ATTRIBUTES[attribute][0]
    if not re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", answer):
        base = 0.0
    elif re.search(rf"\b{re.escape(symbol)}\b|{unit_word}", answer):
        base = 1.0
    else:
        base = 0.5
    modes = modes if modes is not None else (["verbose"] if len(answer.split()) > VERBOSE_WORDS else [])
    penalty = 0.25 * sum(m in modes for m in ("repeated_call", "verbose"))
    return max(0.0, base - penalty)


def write_feedback(traj: Trajectory, question: str, seed: int = 0, phrasings: str = "standard") -> str:
    """The writer's free-text feedback on one run (rules in the module docstring), its
    complaints from `PHRASINGS[phrasings]`."""
    if phrasings not in PHRASINGS:
        raise ValueError(f"phrasings must be one of {sorted(PHRASINGS)}, got {phrasings!r}")
    complaints = PHRASINGS[phrasings]
    rng = random.Random(f"autolibra-writer/{seed}/{traj.id}/{question}")
    parsed = world.parse_question(question)
    item, attribute, symbol = parsed if parsed else ("item", "value", "")
    value = world.value_of(item, attribute) if parsed else ""
    fill = {"item": item, "attribute": attribute, "unit": world.ATTRIBUTES.get(attribute, ("units",))[0],
            "value": value}
    modes = modes_of(traj, question)
    sentences = [rng.choice(complaints[m]).format(**fill) for m in modes]
    good = []
    if _calls(traj):
        good.append("looked_up")
    out = _output(traj)
    if parsed and value in out and "missing_unit" not in modes:
        good += ["unit", "correct"]
    if out and "verbose" not in modes and "asked_user" not in modes and "gave_up" not in modes:
        good.append("short")
    if good and rng.random() < 0.6:
        sentences.append(rng.choice(PRAISE[rng.choice(good)]).format(**fill))
    rng.shuffle(sentences)
    return " ".join(sentences) if sentences else "Fine."
