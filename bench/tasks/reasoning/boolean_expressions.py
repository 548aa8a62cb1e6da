"""Boolean expressions (BIG-Bench Hard style): "not ( True ) and ( False or True ) is".

An item is a Python-style boolean expression over True/False with `not`, `and`, `or`
and parentheses, followed by "is"; the answer is "True" or "False". Items are
generated from a seed, solved exactly from their text, and come with a profile for
the simulated LLM: four skills (scope of `not`, `and` before `or`, parentheses,
double negation), each with the wrong reading a model makes without it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._text import extract_answer
from undertow.bench.sim.profile import ItemMatch, Skill, TaskProfile

NAME = "boolean_expressions"

_TOKEN = re.compile(r"\(|\)|\bnot\b|\band\b|\bor\b|\bTrue\b|\bFalse\b|\S+")


@dataclass(frozen=True, slots=True)
class Reading:
    """How an expression is read: the correct rules, or a model's wrong ones.

    `not_wide`: `not` negates everything after it in its group (instead of one operand).
    `left_to_right`: `and`/`or` share one precedence, applied left to right.
    `drop_parens`: parentheses are ignored. `collapse_nots`: `not not` counts as one `not`.
    """

    not_wide: bool = False
    left_to_right: bool = False
    drop_parens: bool = False
    collapse_nots: bool = False


def tokenize(text: str) -> list[str]:
    """The tokens of an item, without the trailing "is"; a clear error on anything else."""
    body = text.strip()
    if body.endswith(" is") or body == "is":
        body = body[:-2]
    tokens = _TOKEN.findall(body)
    bad = [t for t in tokens if t not in ("(", ")", "not", "and", "or", "True", "False")]
    if bad or not tokens:
        raise ValueError(
            f"{NAME}: {text[:80]!r} is not a boolean expression; expected tokens True, False, "
            f"not, and, or, parentheses and a final 'is' (unexpected: {bad[:3]})")
    return tokens


def evaluate(tokens: list[str], reading: Reading = Reading()) -> bool:
    """Evaluate `tokens` under `reading`; ValueError on malformed expressions."""
    toks = [t for t in tokens if not (reading.drop_parens and t in "()")]
    if reading.collapse_nots:
        toks = [t for i, t in enumerate(toks) if not (t == "not" and i and toks[i - 1] == "not")]
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"{NAME}: malformed expression {' '.join(tokens)!r} at token {pos}")
        pos += 1
        return tok

    def expr() -> bool:
        values, ops = [unary()], []
        while peek() in ("and", "or"):
            ops.append(take())
            values.append(unary())
        if reading.left_to_right:
            acc = values[0]
            for op, v in zip(ops, values[1:], strict=True):
                acc = (acc and v) if op == "and" else (acc or v)
            return acc
        groups, current = [], values[0]
        for op, v in zip(ops, values[1:], strict=True):
            if op == "and":
                current = current and v
            else:
                groups.append(current)
                current = v
        return any([*groups, current])

    def unary() -> bool:
        if peek() == "not":
            take()
            return not (expr() if reading.not_wide else unary())
        tok = take()
        if tok == "(":
            value = expr()
            take(")")
            return value
        if tok in ("True", "False"):
            return tok == "True"
        raise ValueError(f"{NAME}: unexpected {tok!r} in {' '.join(tokens)!r}")

    value = expr()
    if pos != len(toks):
        raise ValueError(f"{NAME}: trailing tokens in {' '.join(tokens)!r}")
    return value


def solve(input: str) -> str:  # noqa: A002 - the task-module pattern names it `input`
    """The exact answer ("True"/"False") of an item, from its text alone."""
    return str(evaluate(tokenize(input)))


def score(prediction: str, target: str) -> float:
    """1.0 when the prediction's answer (after any "Answer:") equals the target, else 0.0."""
    return float(extract_answer(prediction).casefold() == target.strip().casefold())


def _operand(rng: random.Random, depth: int) -> list[str]:
    nots = ["not"] * rng.choice((0, 0, 0, 1, 1, 2, 3))
    if depth > 0 and rng.random() < 0.35:
        return [*nots, "(", *_chain(rng, depth - 1, rng.randint(1, 3)), ")"]
    return [*nots, rng.choice(("True", "False"))]


def _chain(rng: random.Random, depth: int, n: int) -> list[str]:
    out = _operand(rng, depth)
    for _ in range(n - 1):
        out += [rng.choice(("and", "or")), *_operand(rng, depth)]
    return out


def generate(rng: random.Random) -> Example:
    """One item in the BBH style (2-4 operands, nots, at most one level of nesting)."""
    tokens = _chain(rng, 1, rng.randint(2, 4))
    text = " ".join(tokens) + " is"
    return Example(input=text, target=solve(text),
                   meta={"skills": sorted(PROFILE.needed_skills(text))})


_READING_OF = {"not_scope": "not_wide", "and_before_or": "left_to_right",
               "parentheses": "drop_parens", "double_negation": "collapse_nots"}
_START = r"(?:\b(?:not|True|False)\b|\()"
_TOK = r"(?:\b(?:not|and|or|True|False)\b|[()])"


class BooleanExpressionsProfile(TaskProfile):
    """What the simulated LLM knows about boolean expressions."""

    name = NAME
    description = "evaluate a boolean expression over True/False with not, and, or, parentheses"
    keywords = ("boolean", "true or false", "logical expression", "truth value")
    item_pattern = re.compile(rf"{_START}(?:[ \t]*{_TOK})*[ \t]+is\b")
    verbose_template = "So the expression evaluates to {answer}."
    skills = (
        Skill(name="not_scope",
              description='"not" negates only the operand or parenthesized group right after it',
              cues=("not ... binds ... tighter", "not ... higher precedence",
                    "not ... only ... next",
                    "not ... negates only", "not ... applies only", "not ... before ... and"),
              fix='"not" binds tighter than "and" and "or": it negates only the single value or '
                  "parenthesized group right after it.",
              keywords=("scope of not", "negation scope", "negated the whole", "not applies",
                        "applied not to"),
              error='applies "not" to everything after it instead of only the next operand'),
        Skill(name="and_before_or",
              description='"and" is evaluated before "or"',
              cues=("and ... before ... or", "and ... binds tighter ... or",
                    "and ... higher precedence ... or", "and ... tighter than ... or",
                    "or ... lower precedence ... and"),
              fix='Evaluate every "and" before any "or": "and" binds tighter than "or".',
              keywords=("left to right", "operator precedence", "and before or",
                        "or before and", "precedence"),
              error='evaluates "and" and "or" strictly left to right, as if they had equal '
                    "precedence"),
        Skill(name="parentheses",
              description="parenthesized groups are evaluated first",
              cues=("parentheses ... first", "innermost ... first", "brackets ... first",
                    "inside ... parentheses ... before", "parenthesized ... first"),
              fix="Evaluate the expression inside each pair of parentheses first, innermost "
                  "first, and replace it by its value.",
              keywords=("parentheses", "parenthesis", "brackets", "grouping", "parenthesized"),
              error="ignores the parentheses"),
        Skill(name="double_negation",
              description="each not flips the value; an even number of nots cancels",
              cues=("double negation", "each not ... flips", "even number ... not",
                    "count ... nots", "nots ... cancel"),
              fix='Each "not" flips the value once: count the nots in a row, and an even number '
                  "of them cancels out (double negation).",
              keywords=("double negation", "negations", "count the nots", "cancel", "nots"),
              error='reads a run of several "not"s as a single "not"'),
    )

    def find_items(self, text: str) -> list[ItemMatch]:
        """Items with at least one operator (a bare "True is" is prose, not an item)."""
        return [m for m in super().find_items(text)
                if re.search(r"\b(?:not|and|or)\b", m.text)]

    def solve(self, item: str) -> str:
        return solve(item)

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        unknown = missing - set(_READING_OF)
        if unknown:
            raise KeyError(f"{NAME}: unknown skills {sorted(unknown)}; known {sorted(_READING_OF)}")
        reading = Reading(**{_READING_OF[s]: True for s in missing})
        return str(evaluate(tokenize(item), reading))

    def slip(self, item: str, rng: random.Random) -> str:
        return str(solve(item) != "True")

    def parse_answer(self, reply: str) -> str | None:
        span = extract_answer(reply)
        return span if span in ("True", "False") else None

    def explain(self, item: str, answer: str) -> str:
        return f"Let me evaluate {item} step by step, applying the operators in order."


PROFILE = BooleanExpressionsProfile()
