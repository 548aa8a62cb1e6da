"""Multistep arithmetic: evaluate a nested integer expression (BBH `multistep_arithmetic_two`).

Items look like `((-1 + 2 + 9 * 5) - (-2 + -4 + -4 * -7)) =`: parenthesised groups of
2-4 terms over `+ - *`, nested up to three levels, with one-digit literals that may be
negative. Skills an item can need:
- `operator_precedence`: `*` binds tighter than `+`/`-`; left-to-right evaluation
  inside a group gives a different result;
- `negative_signs`: subtracting a negative literal (`3 - -4`) adds; reading it as
  `3 - 4` gives a different result.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._profile import ReasoningProfile, check_skills
from undertow.bench.tasks.reasoning._text import extract_answer, parse_int
from undertow.bench.sim.profile import Skill

NAME = "multistep_arithmetic"
SKILLS: tuple[str, ...] = ("operator_precedence", "negative_signs")

# --- generator: an expression tree, evaluated on the tree ---------------------------

Tree = int | tuple[list["Tree"], list[str]]  # a literal, or (terms, operators between)


def _grow(rng: random.Random, depth: int) -> Tree:
    n = rng.randint(2, 4)
    terms: list[Tree] = [
        _grow(rng, depth - 1) if depth > 1 and rng.random() < 0.5 else rng.randint(-9, 9)
        for _ in range(n)
    ]
    return terms, [rng.choice("+-*") for _ in range(n - 1)]


def _value(tree: Tree, precedence: bool = True, double_negative: bool = True) -> int:
    """The tree's value; the flags switch on the characteristic errors."""
    if isinstance(tree, int):
        return tree
    terms, ops = tree

    def leaf(term: Tree, op: str) -> int:
        value = _value(term, precedence, double_negative)
        flip = op == "-" and not double_negative and isinstance(term, int) and term < 0
        return -value if flip else value

    if not precedence:
        total = leaf(terms[0], "+")
        for op, term in zip(ops, terms[1:]):
            rhs = leaf(term, op)
            total = total + rhs if op == "+" else total - rhs if op == "-" else total * rhs
        return total
    sums, signs, product = [], [1], leaf(terms[0], "+")  # fold products, then sum
    for op, term in zip(ops, terms[1:]):
        if op == "*":
            product *= leaf(term, op)
        else:
            sums.append(product)
            signs.append(1 if op == "+" else -1)
            product = leaf(term, op)
    sums.append(product)
    return sum(s * v for s, v in zip(signs, sums))


def _render(tree: Tree) -> str:
    if isinstance(tree, int):
        return str(tree)
    terms, ops = tree
    parts = [_render(terms[0])]
    for op, term in zip(ops, terms[1:]):
        parts += [op, _render(term)]
    return "(" + " ".join(parts) + ")"


def _count(tree: Tree) -> int:
    return 1 if isinstance(tree, int) else sum(_count(t) for t in tree[0])


def generate(rng: random.Random) -> Example:
    """Two groups joined by an operator, as in BBH, each nested up to three levels."""
    depth = rng.randint(1, 3)
    tree: Tree = ([_grow(rng, depth), _grow(rng, depth)], [rng.choice("+-*")])
    text = _render(tree) + " ="
    target = _value(tree)
    skills = []
    if _value(tree, precedence=False) != target:
        skills.append("operator_precedence")
    if _value(tree, double_negative=False) != target:
        skills.append("negative_signs")
    return Example(input=text, target=str(target),
                   meta={"task": NAME, "skills": skills, "depth": depth,
                         "difficulty": round(min(_count(tree), 24) / 24, 3)})


# --- solver: tokenize and parse the text ---------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+)|([-+*()=]))")


def _tokens(text: str) -> list[str]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"{NAME}: unexpected character {text[pos]!r} at {pos} in {text!r}; "
                             "items use integers, + - * and parentheses, ending in '='")
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    if out and out[-1] == "=":
        out.pop()
    return out


@dataclass
class _Parser:
    """Recursive descent over the tokens; the flags switch on a characteristic error."""

    tokens: list[str]
    precedence: bool = True
    double_negative: bool = True
    pos: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ValueError(f"{NAME}: expression ends early: {' '.join(self.tokens)!r}")
        self.pos += 1
        return token

    def atom(self, after_minus: bool) -> int:
        token = self.take()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise ValueError(f"{NAME}: missing ')' in {' '.join(self.tokens)!r}")
            return value
        if token == "-":
            value = -int(self.take_number())
            return -value if after_minus and not self.double_negative else value
        if token.isdigit():
            return int(token)
        raise ValueError(f"{NAME}: unexpected {token!r} in {' '.join(self.tokens)!r}")

    def take_number(self) -> str:
        token = self.take()
        if not token.isdigit():
            raise ValueError(f"{NAME}: expected a number after '-', got {token!r}")
        return token

    def expr(self) -> int:
        if not self.precedence:  # strictly left to right
            value = self.atom(False)
            while self.peek() in ("+", "-", "*"):
                op = self.take()
                rhs = self.atom(op == "-")
                value = value + rhs if op == "+" else value - rhs if op == "-" else value * rhs
            return value
        value = self.term(False)
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term(op == "-")
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self, after_minus: bool) -> int:
        value = self.atom(after_minus)
        while self.peek() == "*":
            self.take()
            value *= self.atom(False)
        return value


def _evaluate(text: str, precedence: bool = True, double_negative: bool = True) -> int:
    parser = _Parser(_tokens(text), precedence, double_negative)
    value = parser.expr()
    if parser.pos != len(parser.tokens):
        raise ValueError(f"{NAME}: unexpected {parser.peek()!r} after a complete expression "
                         f"in {text!r}")
    return value


def solve(input: str) -> str:
    """Evaluate the expression with the usual precedence (`*` before `+`/`-`)."""
    return str(_evaluate(input))


def answer_without(input: str, missing: frozenset[str] | set[str]) -> str:
    """The answer of a solver lacking the skills in `missing` (the characteristic errors)."""
    check_skills(NAME, missing, SKILLS)
    return str(_evaluate(input, precedence="operator_precedence" not in missing,
                         double_negative="negative_signs" not in missing))


def score(prediction: str, target: str) -> float:
    """1.0 when the answer is the target integer (`"-50"`, `"-50.0"`, `"= -50"`)."""
    span = extract_answer(prediction).lstrip("= ").replace("\u2212", "-")
    values = [parse_int(t) for t in span.split()]
    found = [v for v in values if v is not None]
    return float(bool(found) and found[0] == parse_int(target))


class MultistepArithmeticProfile(ReasoningProfile):
    """What the simulated LLM knows about multistep arithmetic."""

    name = NAME
    description = "evaluate a nested integer arithmetic expression"
    keywords = ("arithmetic", "expression", "evaluate", "calculate", "compute")
    item_pattern = re.compile(r"\([-+*()\d ]+\)\s*=")
    verbose_template = "Working it out, the expression equals {answer}."
    skills = (
        Skill(name="operator_precedence",
              description="multiplication binds tighter than addition and subtraction",
              cues=("multiplication before", "multiply first", "operator precedence",
                    "order of operations", "before adding"),
              fix="Inside each group, do multiplication before addition and subtraction "
                  "(operator precedence).",
              keywords=("left to right", "precedence", "order of operations",
                        "multiplication", "pemdas"),
              error="it evaluates each group strictly left to right, as if * bound no "
                    "tighter than + and -"),
        Skill(name="negative_signs",
              description="subtracting a negative number adds it",
              cues=("minus a negative", "subtracting a negative", "double negative",
                    "two minus signs"),
              fix="Subtracting a negative number adds it: 3 - -4 = 7 (minus a negative is "
                  "plus).",
              keywords=("negative", "sign", "minus", "sign error"),
              error="it reads 'a - -b' as 'a - b', losing the sign of a negative number "
                    "after a minus"),
    )


PROFILE = MultistepArithmeticProfile(solve, answer_without, score)
