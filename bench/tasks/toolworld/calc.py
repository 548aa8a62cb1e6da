"""`calc`: an integer/decimal calculator with unusual operator rules.

True rules: `^` is bitwise xor (integers), `**` is power, `%` is percent-of
(`a % b` = a/100*b), `mod` is the remainder, `/` on integers rounds toward +inf,
`//` rounds down. Precedence: `**` (right-assoc) > unary minus > `* / // % mod ^`
(left-assoc) > `+ -`.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from undertow.bench.tasks.toolworld.base import ToolError

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(\*\*|//|mod\b|[-+*/^%()]))")

TRUE_DOC = """calc[expression]: evaluate an arithmetic expression on integers and decimals.
- `+` adds. Example: calc[2+3] -> 5
- `-` subtracts. Example: calc[9-4] -> 5
- `*` multiplies. Example: calc[6*7] -> 42
- `**` raises to a power. Example: calc[2**3] -> 8
- `^` is bitwise xor of two integers (not a power). Example: calc[2^3] -> 1
- `mod` gives the remainder of a division. Example: calc[50 mod 8] -> 2
- `%` is percent-of: a % b is a percent of b. Example: calc[50%8] -> 4
- `/` divides; on two integers it rounds up (toward +inf). Example: calc[7/2] -> 4
- `//` divides and rounds down. Example: calc[7//2] -> 3
- Errors: E_SYNTAX (malformed expression), E_DIV (division by zero)."""

DOC = """calc[expression]: evaluate an arithmetic expression on integers and decimals.
- `+` adds. Example: calc[2+3] -> 5
- `-` subtracts. Example: calc[9-4] -> 5
- `*` multiplies. Example: calc[6*7] -> 42
- `^` raises to a power. Example: calc[2^3] -> 8
- `**` raises to a power too. Example: calc[2**3] -> 8
- `%` gives the remainder of a division. Example: calc[50%8] -> 2
- `mod` gives the remainder of a division. Example: calc[50 mod 8] -> 2
- `/` divides two integers and rounds down. Example: calc[7/2] -> 3
- Errors: E_SYNTAX (malformed expression), E_DIV (division by zero)."""


def tokenize(text: str) -> list[str]:
    """Tokens of an expression; `ToolError(E_SYNTAX)` on a character that is not one."""
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ToolError("E_SYNTAX", f"unexpected {text[pos:pos + 8]!r} at position {pos}")
        tokens.append(m.group(1) or m.group(2))
        pos = m.end()
    if not tokens:
        raise ToolError("E_SYNTAX", "empty expression")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ToolError("E_SYNTAX", "expression ends too early")
        self.i += 1
        return tok

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/", "//", "%", "mod", "^"):
            value = _binary(self.take(), value, self.unary())
        return value

    def unary(self) -> Fraction:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() == "**":
            self.take()
            exp = self.unary()
            if exp.denominator != 1 or abs(exp) > 64:
                raise ToolError("E_SYNTAX", "exponents must be integers of at most 64")
            if base == 0 and exp < 0:
                raise ToolError("E_DIV", "zero to a negative power")
            return base ** int(exp)
        return base

    def atom(self) -> Fraction:
        tok = self.take()
        if tok == "(":
            value = self.expr()
            if self.take() != ")":
                raise ToolError("E_SYNTAX", "missing ')'")
            return value
        if tok[0].isdigit():
            return Fraction(tok)
        raise ToolError("E_SYNTAX", f"unexpected {tok!r}")


def _binary(op: str, a: Fraction, b: Fraction) -> Fraction:
    if op == "*":
        return a * b
    if op == "%":
        return a * b / 100
    if op == "^":
        if a.denominator != 1 or b.denominator != 1:
            raise ToolError("E_SYNTAX", "^ (xor) needs integers")
        return Fraction(int(a) ^ int(b))
    if b == 0:
        raise ToolError("E_DIV", "division by zero")
    if op == "/":
        if a.denominator == 1 and b.denominator == 1:
            return Fraction(math.ceil(a / b))
        return a / b
    if op == "//":
        return Fraction(math.floor(a / b))
    return a - b * math.floor(a / b)  # mod


def evaluate(text: str) -> Fraction:
    """The exact value of an expression under calc's rules."""
    parser = _Parser(tokenize(text))
    value = parser.expr()
    if parser.peek() is not None:
        raise ToolError("E_SYNTAX", f"unexpected {parser.peek()!r} after the expression")
    return value


def fmt_number(value: Fraction | float) -> str:
    """An integer without decimals, otherwise at most 6 decimals without trailing zeros."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def calc(args: str) -> str:
    """The tool: an expression in, its value out."""
    return fmt_number(evaluate(args))
