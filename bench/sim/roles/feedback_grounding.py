"""The sim grounds free-text feedback in an agent run: which step each remark is about.

Claims a request that shows an agent run (numbered steps), a piece of feedback, and asks
to tie the feedback's sentences or remarks to steps or behaviours. For each sentence it
picks the step sharing most words and concepts with it (a concept named in the sentence
points at the step kinds that show it: a complaint about asking points at outputs, one
about lookups at tool calls), reads polarity from cue words, and describes the behaviour
as the sentence without names and numbers. Noise (seeded): a sentence is skipped 5% of
the time, its step is a random one 10%, its polarity flipped 5%. Evidence: True when the
request carries both steps and feedback.
"""

from __future__ import annotations

import json
import random

from undertow.bench.sim.profile import cue_in
from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._agent_reading import (
    concepts_in,
    content_words,
    json_keys,
    polarity_of,
    read_feedback,
    read_steps,
    sentences,
)

SKIP, WRONG_STEP, FLIP = 0.05, 0.10, 0.05
_ASKS = ("sentence", "remark", "each part", "each point", "comment", "statement", "claim")
_LINKS = ("step", "behaviour", "behavior", "refer", "about", "tie", "link", "ground", "map", "point to")
#: concept -> step kinds that show it
_KIND_OF = {"repetition": ("tool_call",), "tool_use": ("tool_call", "observation"),
            "asking_user": ("output",), "giving_up": ("output",), "units": ("output",),
            "length": ("output",), "correctness": ("output",), "fabrication": ("output",),
            "errors": ("observation",), "politeness": ("output",), "speed": ("tool_call",)}


class FeedbackGroundingRole:
    name = "feedback_grounding"
    priority = 40

    def claims(self, request: RoleRequest) -> bool:
        asked = request.instructions
        if not (any(cue_in(c, asked) for c in _ASKS) and any(cue_in(c, asked) for c in _LINKS)):
            return False
        if any(cue_in(c, asked) for c in ("metrics:", "rate each", "for every metric", "for each metric")):
            return False
        return bool(read_steps(request.text)) and bool(read_feedback(request.text))

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        steps = read_steps(request.text)
        feedback = read_feedback(request.text)
        keys = json_keys(list(request.fmt.keys),
                         {"list": ("behav", "item", "remark", "result", "ground"),
                          "sentence": ("sentence", "quote", "remark_text", "feedback"),
                          "step": ("step", "index"), "polarity": ("polar", "sentiment", "valence", "verdict"),
                          "behaviour": ("behaviour", "behavior", "description", "summary")},
                         {"list": "behaviours", "sentence": "sentence", "step": "step", "polarity": "polarity",
                          "behaviour": "behaviour"})
        if keys["behaviour"] == keys["list"]:
            keys["behaviour"] = "behaviour" if keys["list"] != "behaviour" else "description"
        out = []
        step_words = [set(content_words(s.text)) | {s.kind} for s in steps]
        for sentence in sentences(feedback):
            if rng.random() < SKIP:
                continue
            words = set(content_words(sentence))
            kinds = {k for c in concepts_in(sentence) for k in _KIND_OF.get(c, ())}
            scores = [len(words & sw) + 2 * (s.kind in kinds) + 0.01 * (s.kind == "output")
                      for s, sw in zip(steps, step_words)]
            best = steps[max(range(len(steps)), key=lambda i: (scores[i], -i))]  # ties: the earliest
            if rng.random() < WRONG_STEP:
                best = rng.choice(steps)
            polarity = polarity_of(sentence)
            if rng.random() < FLIP:
                polarity = "positive" if polarity == "negative" else "negative"
            out.append({keys["sentence"]: sentence, keys["step"]: best.index, keys["polarity"]: polarity,
                        keys["behaviour"]: describe(sentence)})
        return json.dumps({keys["list"]: out}, indent=1), bool(steps and feedback)


def describe(sentence: str) -> str:
    """The behaviour a sentence talks about: the sentence without names and numbers."""
    from undertow.bench.sim.roles._agent_reading import abstract

    return " ".join(abstract(sentence).split()) or sentence


ROLE = FeedbackGroundingRole()
