"""Task profiles: what the simulated LLM knows about a task, and nothing more.

A profile tells the simulator how to recognize an item of its task inside message
text, the exact answer (the task's own solver), the skills an item needs, the cue
phrases of a prompt that teach each skill, and the answer a model gives when a skill
is missing (its characteristic error). The simulator never sees a task's data: it
only reads messages and asks its profiles about the text it finds there.

Writing a profile for a new task (see `bench/tasks/reasoning/boolean_expressions.py`):

    class MyProfile(TaskProfile):
        name = "my_task"
        description = "what the task asks"
        keywords = ("words", "that name the task")
        item_pattern = re.compile(r"...")          # finds candidate items in text
        skills = (Skill(name=..., description=..., cues=(...), fix=..., keywords=(...)),)

        def solve(self, item: str) -> str: ...                      # exact answer
        def answer_without(self, item: str, missing: frozenset[str]) -> str: ...

`check_profile(profile, examples)` verifies a profile against generated examples;
call it from the task's tests.
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Separator inside a cue: the parts must appear in this order within one sentence.
GAP = "..."


@lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """Lower-case words and sentence breaks only: how cues are matched.

    Punctuation other than sentence ends becomes a space, so `"not" binds` and
    `not binds` match alike; `.`, `!`, `?`, `;` and newlines become ` | ` so that a
    cue's parts can be required to sit in one sentence.
    """
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"[.!?;\n]+(?=\s|$)|\n", " | ", text)
    text = re.sub(r"[^a-z0-9|:+*/=<>-]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4096)
def _cue_regex(cue: str) -> re.Pattern[str]:
    parts = [normalize(p) for p in cue.split(GAP)]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError(f"empty cue {cue!r}: a cue needs at least one word")
    # Whole-word parts in order, separated by anything except a sentence break.
    body = "[^|]*?".join(rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])" for p in parts)
    return re.compile(body)


def cue_in(cue: str, text: str) -> bool:
    """Whether `cue` occurs in `text` (already `normalize`d or raw; both work)."""
    return _cue_regex(cue).search(normalize(text)) is not None


class Skill(BaseModel):
    """One thing a prompt can teach, and the phrases by which the simulator sees it taught.

    - `cues`: phrases whose presence in a prompt means the skill is taught. Matching
      ignores case and punctuation; `...` inside a cue means "anything within the
      same sentence" (`"not ... before ... and"`).
    - `fix`: the sentence the simulator adds to a prompt to teach the skill; it must
      itself contain one of the cues (checked).
    - `keywords`: words that, found in feedback or a critique, point at this skill.
    - `error`: how a model without the skill goes wrong, as a verb phrase completing
      "the model ..." (used in critiques).
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    cues: tuple[str, ...] = Field(min_length=1)
    fix: str
    keywords: tuple[str, ...] = ()
    error: str = ""

    @model_validator(mode="after")
    def _fix_teaches(self) -> Skill:
        if not self.taught_by(self.fix):
            raise ValueError(
                f"skill {self.name!r}: its fix {self.fix!r} contains none of its cues "
                f"{list(self.cues)}; reword the fix or add a cue it contains"
            )
        return self

    def taught_by(self, prompt: str) -> bool:
        """Whether `prompt` contains one of this skill's cues."""
        norm = normalize(prompt)
        return any(_cue_regex(c).search(norm) for c in self.cues)

    def named_in(self, text: str, *, cues: bool = True) -> int:
        """How many of this skill's keywords (and cues, unless `cues=False`) `text`
        mentions: diagnosis evidence."""
        norm = normalize(text)
        hits = sum(1 for k in self.keywords if _cue_regex(k).search(norm))
        return hits + (sum(1 for c in self.cues if _cue_regex(c).search(norm)) if cues else 0)


#: The skill every task shares: ending a reply with a clean, parseable answer.
ANSWER_FORMAT = Skill(
    name="answer_format",
    description="end the reply with a line 'Answer: X' holding only the final answer",
    cues=("answer:", "end ... with ... answer", "last line ... answer", "answer ... last line",
          "format ... answer"),
    fix='End your reply with a last line of the form "Answer: X", where X is only the '
        "final answer.",
    keywords=("could not parse", "unparseable", "not parse", "no final answer",
              "extract the answer", "no answer found", "answer line"),
    error="buries its answer in a sentence, so no final answer can be read off",
)


@dataclass(frozen=True, slots=True)
class ItemMatch:
    """A task item found in text: its exact text and where it sits."""

    text: str
    start: int
    end: int


class CodeFix(BaseModel):
    """A candidate fix of a code parameter, offered by a profile's `code_fixes`.

    - `new_code`: the whole new source (a full function with the same signature).
    - `keywords`: words that, found in the feedback or test output a request shows,
      point at the weakness this fix removes (diagnosis evidence, matched like cues).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    new_code: str
    keywords: tuple[str, ...] = ()

    def named_in(self, text: str) -> int:
        """How many of this fix's keywords `text` mentions."""
        norm = normalize(text)
        return sum(1 for k in self.keywords if _cue_regex(k).search(norm))


class TaskProfile(ABC):
    """What the simulated LLM knows about one task. Subclass it once per task.

    Class attributes to set: `name`, `description`, `keywords` (words that name the
    task in a prompt), `skills`, and `item_pattern` (a regex whose matches are
    candidate items; a candidate counts only if `solve` accepts it). Methods to write:
    `solve` and `answer_without`. Everything else has a default.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    keywords: ClassVar[tuple[str, ...]] = ()
    skills: ClassVar[tuple[Skill, ...]] = ()
    item_pattern: ClassVar[re.Pattern[str] | None] = None
    #: Template of an unformatted (chatty) reply; `{answer}` is filled in.
    verbose_template: ClassVar[str] = "I think the result is {answer}."

    # --- what a subclass must provide -------------------------------------------------
    @abstractmethod
    def solve(self, item: str) -> str:
        """The exact answer of `item`, from its text alone; raise ValueError if not an item."""

    @abstractmethod
    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        """The answer a model gives to `item` when it lacks the skills in `missing`.

        With `missing` empty this is `solve(item)`. This is the characteristic error:
        it must be a deterministic function of the item and the missing skills.
        """

    # --- defaults ---------------------------------------------------------------------
    def find_items(self, text: str) -> list[ItemMatch]:
        """Every item of this task in `text`, in order. Default: `item_pattern` + `solve`."""
        if self.item_pattern is None:
            return []
        found = []
        for m in self.item_pattern.finditer(text):
            candidate = m.group(0).strip()
            if not candidate:
                continue
            try:
                self.solve(candidate)
            except (ValueError, IndexError, KeyError, ZeroDivisionError, RecursionError):
                continue
            start = text.index(candidate, m.start())
            found.append(ItemMatch(candidate, start, start + len(candidate)))
        return found

    def skill(self, name: str) -> Skill:
        """The skill called `name` (the shared `answer_format` included)."""
        for s in self.all_skills():
            if s.name == name:
                return s
        raise KeyError(f"profile {self.name!r} has no skill {name!r}; "
                       f"known: {[s.name for s in self.all_skills()]}")

    def all_skills(self) -> tuple[Skill, ...]:
        """The task's skills followed by the shared `ANSWER_FORMAT`."""
        return (*self.skills, ANSWER_FORMAT)

    def needed_skills(self, item: str) -> frozenset[str]:
        """Skills whose absence alone changes the answer of `item`."""
        right = self.solve(item)
        return frozenset(s.name for s in self.skills
                         if not self.same_answer(self.answer_without(item, frozenset({s.name})),
                                                 right))

    def slip(self, item: str, rng: random.Random) -> str:
        """A random careless mistake on `item` (default: the answer without every skill,
        or the right answer if that coincides)."""
        return self.answer_without(item, frozenset(s.name for s in self.skills))

    def parse_answer(self, reply: str) -> str | None:
        """The final answer stated in a reply, or None if none can be read off.

        Default: the text after the last "Answer:" or "answer is", else the whole reply
        when it is a single short line.
        """
        m = re.findall(r"answer\s*(?:is|:)\s*([^\n]+)", reply, flags=re.IGNORECASE)
        span = m[-1] if m else (reply if "\n" not in reply.strip() and len(reply) < 40 else "")
        span = span.strip().strip("\"'`*_ ").rstrip(".").strip()
        return span or None

    def same_answer(self, a: str, b: str) -> bool:
        """Whether two answers are the same (case and surrounding space ignored)."""
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()

    def code_fixes(self, code: str, evidence: str) -> list[CodeFix]:
        """Candidate fixes of the code parameter `code` (those it does not have yet).

        `evidence` is the whole request text. Return [] when `code` is not this task's
        code. The simulator picks among the fixes by their `keywords` (docs/sim.md).
        Default: none."""
        return []

    def numeric_plan(self, values: dict[str, float], descriptions: dict[str, str],
                     widths: dict[str, float], feedback: str,
                     history: Sequence[tuple[dict[str, float], str]], rng: random.Random
                     ) -> tuple[dict[str, float], list[str]] | None:
        """A task's own rule for numeric variables when the feedback gives no larger /
        smaller direction: new (unclipped) values and reasoning notes, or None when the
        feedback is not this task's (default). `descriptions` are the variables' shown
        descriptions, `widths` their bounds' widths, `history` earlier (values, feedback)."""
        return None

    def explain(self, item: str, answer: str) -> str:
        """Reasoning text a step-by-step reply shows before its answer (default: short)."""
        return f"Let me work through {item!r} step by step."

    def __repr__(self) -> str:
        return f"<TaskProfile {self.name}>"


def check_profile(profile: TaskProfile, examples: Iterable[object]) -> None:
    """Assert the invariants the simulator relies on; raise AssertionError naming the first break.

    `examples` are task `Example`s (anything with `.input` and `.target`). Checks:
    skill names are unique; each example's item is found in its own input, its answer
    is the target, `answer_without(item, {})` is the answer, and `needed_skills` is a
    subset of the profile's skills.
    """
    names = [s.name for s in profile.all_skills()]
    assert len(set(names)) == len(names), f"{profile.name}: duplicate skill names {names}"
    for ex in examples:
        text, target = ex.input, ex.target  # type: ignore[attr-defined]
        items = profile.find_items(text)
        assert items, f"{profile.name}: no item recognized in {text!r}; widen item_pattern"
        item = items[-1].text
        assert profile.same_answer(profile.solve(item), target), (
            f"{profile.name}: solve({item!r}) = {profile.solve(item)!r}, target {target!r}")
        assert profile.same_answer(profile.answer_without(item, frozenset()), target), (
            f"{profile.name}: answer_without({item!r}, {{}}) differs from the target")
        assert profile.needed_skills(item) <= set(names), f"{profile.name}: unknown skills"


def load_profiles(group: str = "undertow.sim_profiles") -> list[TaskProfile]:
    """Every profile registered under the entry-point `group` (each entry point is a
    zero-argument callable returning a list of profiles), sorted by name."""
    from importlib.metadata import entry_points

    profiles: list[TaskProfile] = []
    for ep in entry_points(group=group):
        loaded = ep.load()()
        for p in loaded:
            if not isinstance(p, TaskProfile):
                raise TypeError(f"entry point {ep.name!r} in {group!r} returned {p!r}, "
                                "not a TaskProfile; return a list of TaskProfile instances")
            profiles.append(p)
    return sorted(profiles, key=lambda p: p.name)


def unique_profiles(profiles: Sequence[TaskProfile]) -> list[TaskProfile]:
    """Profiles sorted by name; a clear error on two profiles with one name."""
    seen: dict[str, TaskProfile] = {}
    for p in profiles:
        if p.name in seen:
            raise ValueError(f"two task profiles are named {p.name!r}; names must be unique")
        seen[p.name] = p
    return [seen[n] for n in sorted(seen)]
