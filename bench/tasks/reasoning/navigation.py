"""Navigation: do these moves bring you back to the start? (BBH `navigate` style).

Two kinds of items, as in BBH: "Always face forward." followed by steps forward,
backward, left and right; or steps along the current heading mixed with turns.
Skills an item can need:
- `track_heading`: turns change what "forward" means; ignoring them changes the answer;
- `opposite_directions`: backward cancels forward and left cancels right; adding
  every step as if it went the same way changes the answer.
"""

from __future__ import annotations

import random
import re

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._profile import ReasoningProfile, check_skills
from undertow.bench.tasks.reasoning._text import after_marker, extract_answer
from undertow.bench.sim.profile import Skill

NAME = "navigation"
SKILLS: tuple[str, ...] = ("track_heading", "opposite_directions")
QUESTION = "If you follow these instructions, do you return to the starting point?"
OPTIONS = "\nOptions:\n- Yes\n- No"
# Heading changes, in quarter turns counterclockwise, and step directions relative to
# the heading as (forward, left) unit vectors.
TURNS: dict[str, int] = {"left": 1, "right": 3, "around": 2}
RELATIVE: dict[str, tuple[int, int]] = {
    "forward": (1, 0), "backward": (-1, 0), "left": (0, 1), "right": (0, -1),
}


def _rotate(vector: tuple[int, int], quarter_turns: int) -> tuple[int, int]:
    x, y = vector
    for _ in range(quarter_turns % 4):
        x, y = -y, x
    return x, y


Move = tuple[str, int] | tuple[str, int, str]  # ("turn", quarter turns) | ("step", n, dir)


def _render(move: Move) -> str:
    if move[0] == "turn":
        return "Turn " + {1: "left", 2: "around", 3: "right"}[move[1]] + "."
    n, direction = move[1], move[2]
    word = "step" if n == 1 else "steps"
    return f"Take {n} {word}{' ' + direction if direction else ''}."


def _walk(moves: list[Move], turns: bool = True, signs: bool = True) -> tuple[int, int]:
    """Where the moves end; `turns`/`signs` off switch on the characteristic errors."""
    heading, x, y = 0, 0, 0
    for move in moves:
        if move[0] == "turn":
            heading = (heading + move[1]) % 4 if turns else heading
            continue
        dx, dy = _rotate(RELATIVE[(move[2] or "forward") if signs else "forward"], heading)
        x, y = x + move[1] * dx, y + move[1] * dy
    return x, y


def _face_forward(rng: random.Random, home: bool) -> list[Move]:
    moves: list[Move] = [("step", rng.randint(1, 10), rng.choice(tuple(RELATIVE)))
                         for _ in range(rng.randint(1, 5))]
    if home:  # add the moves that undo them, then shuffle
        opposite = {"forward": "backward", "backward": "forward", "left": "right",
                    "right": "left"}
        moves += [("step", m[1], opposite[m[2]]) for m in moves]
    rng.shuffle(moves)
    return moves


def _turning(rng: random.Random, home: bool) -> list[Move]:
    """Steps along the heading and turns; a walk home is appended when `home`."""
    moves: list[Move] = []
    for _ in range(rng.randint(2, 7)):
        if rng.random() < 0.4:
            moves.append(("turn", rng.choice((1, 2, 3))))
        else:
            moves.append(("step", rng.randint(1, 10), rng.choice(("", "", "", "backward"))))
    if home:  # face each axis's way home in turn, and walk it
        x, y = _walk(moves)
        heading = sum(m[1] for m in moves if m[0] == "turn") % 4
        for want, amount in ((0 if x < 0 else 2, abs(x)), (1 if y < 0 else 3, abs(y))):
            if amount == 0:
                continue
            if (want - heading) % 4:
                moves.append(("turn", (want - heading) % 4))
            heading = want
            moves.append(("step", amount, ""))
    return moves


def generate(rng: random.Random) -> Example:
    """Half the items return home (by construction), half do not (checked)."""
    home = rng.random() < 0.5
    face_forward = rng.random() < 0.5
    while True:
        moves = _face_forward(rng, home) if face_forward else _turning(rng, home)
        if home or _walk(moves) != (0, 0):
            break
    lines = (["Always face forward."] if face_forward else []) + [_render(m) for m in moves]
    target = "Yes" if _walk(moves) == (0, 0) else "No"
    skills = [skill for skill, flags in (("track_heading", (False, True)),
                                         ("opposite_directions", (True, False)))
              if (_walk(moves, *flags) == (0, 0)) != (target == "Yes")]
    return Example(input=f"{QUESTION} {' '.join(lines)}{OPTIONS}", target=target,
                   meta={"task": NAME, "skills": skills, "n_instructions": len(lines),
                         "style": "face_forward" if face_forward else "turning",
                         "difficulty": round(min(len(lines), 16) / 16, 3)})


_STEP = re.compile(r"Take (\d+) steps?(?: (forward|backward|left|right))?\.?$")
_TURN = re.compile(r"Turn (left|right|around)\.?$")


def _instructions(text: str) -> list[str]:
    body = after_marker(text, "starting point?", NAME).split("Options:")[0]
    return [s.strip() + "." for s in body.split(".") if s.strip()]


def _parse(text: str) -> list[Move]:
    moves: list[Move] = []
    for line in _instructions(text):
        if line == "Always face forward.":
            continue
        if m := _TURN.match(line):
            moves.append(("turn", TURNS[m.group(1)]))
        elif m := _STEP.match(line):
            moves.append(("step", int(m.group(1)), m.group(2) or ""))
        else:
            raise ValueError(f"{NAME}: cannot read the instruction {line!r}; expected "
                             "'Take N steps [forward|backward|left|right].' or 'Turn left.'")
    return moves


def solve(input: str) -> str:
    """Track position and heading on a grid; "Yes" when the walk ends at the origin."""
    return "Yes" if _walk(_parse(input)) == (0, 0) else "No"


def answer_without(input: str, missing: frozenset[str] | set[str]) -> str:
    """The answer of a solver lacking the skills in `missing` (the characteristic errors)."""
    check_skills(NAME, missing, SKILLS)
    end = _walk(_parse(input), turns="track_heading" not in missing,
                signs="opposite_directions" not in missing)
    return "Yes" if end == (0, 0) else "No"


def score(prediction: str, target: str) -> float:
    """1.0 when the reply's first yes/no word matches ("yes", "- Yes", "(A) Yes.")."""
    words = re.findall(r"[a-z]+", extract_answer(prediction).lower())
    verdict = next((w for w in words if w in ("yes", "no")), None)
    return float(verdict == target.strip().lower())


class NavigationProfile(ReasoningProfile):
    """What the simulated LLM knows about navigation items."""

    name = NAME
    description = "decide whether a list of moves returns to the starting point"
    keywords = ("navigate", "navigation", "starting point", "instructions", "steps")
    item_pattern = re.compile(r"If you follow these instructions, do you return to the "
                              r"starting point\?[^\n]*(?:\nOptions:\n- Yes\n- No)?")
    verbose_template = "After all the moves, my answer is {answer}."
    skills = (
        Skill(name="track_heading",
              description="turns change the direction of the steps that follow",
              cues=("keep track ... facing", "turn changes", "track ... heading",
                    "after ... turn ... forward"),
              fix="Keep track of which way you are facing: each turn changes the direction "
                  "of the steps that follow.",
              keywords=("turn", "turns", "heading", "facing", "orientation"),
              error="it ignores the turns and treats every step as going the initial way"),
        Skill(name="opposite_directions",
              description="steps in opposite directions cancel out",
              cues=("opposite directions cancel", "backward cancels forward",
                    "net displacement", "left cancels right"),
              fix="Steps in opposite directions cancel: backward cancels forward and left "
                  "cancels right, so add up the net displacement on each axis.",
              keywords=("cancel", "opposite", "backward", "net", "displacement"),
              error="it adds every step as if all went the same way, so it never returns"),
    )


PROFILE = NavigationProfile(solve, answer_without, score)
