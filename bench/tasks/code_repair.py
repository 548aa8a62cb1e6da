"""Code repair: small functions with bugs, and unit tests whose output is the feedback.

Each problem has a description, a buggy implementation (the starting value of a
`code` parameter, e.g. in `undertow.agents.code_agent.CodeAgent`), unit tests as
(arguments, expected result) pairs, and a reference fix (never shown to a model;
it proves the tests are satisfiable and lets a simulator profile offer it as a
candidate fix). The score is the fraction of tests passed; the feedback is the test
report a harness prints.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from undertow.engine import ExecutionError, Node
from undertow.bench.sim.profile import CodeFix, TaskProfile


@dataclass(frozen=True)
class Problem:
    name: str
    description: str
    buggy: str
    fixed: str
    tests: tuple[tuple[tuple[Any, ...], Any], ...]


PROBLEMS: tuple[Problem, ...] = (
    Problem("max_of_list", "Return the largest number in a non-empty list.",
            "def max_of_list(xs):\n    best = 0\n    for x in xs:\n        if x > best:\n            best = x\n    return best\n",
            "def max_of_list(xs):\n    best = xs[0]\n    for x in xs[1:]:\n        if x > best:\n            best = x\n    return best\n",
            ((([3, 9, 2],), 9), (([-5, -2, -8],), -2), (([7],), 7))),
    Problem("count_vowels", "Count the vowels (a, e, i, o, u, either case) in a string.",
            "def count_vowels(s):\n    return sum(1 for c in s if c in 'aeiou')\n",
            "def count_vowels(s):\n    return sum(1 for c in s.lower() if c in 'aeiou')\n",
            ((("banana",), 3), (("ApplE",), 2), (("xyz",), 0))),
    Problem("fizzbuzz", "Return 'Fizz' for multiples of 3, 'Buzz' for 5, 'FizzBuzz' for both, else str(n).",
            "def fizzbuzz(n):\n    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n"
            "    if n % 15 == 0:\n        return 'FizzBuzz'\n    return str(n)\n",
            "def fizzbuzz(n):\n    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n        return 'Fizz'\n"
            "    if n % 5 == 0:\n        return 'Buzz'\n    return str(n)\n",
            (((3,), "Fizz"), ((10,), "Buzz"), ((30,), "FizzBuzz"), ((7,), "7"))),
    Problem("reverse_words", "Reverse the order of the words in a sentence, single spaces between them.",
            "def reverse_words(s):\n    return ' '.join(s.split(' ')[::-1])\n",
            "def reverse_words(s):\n    return ' '.join(s.split()[::-1])\n",
            ((("a b c",), "c b a"), (("  hello   world ",), "world hello"), (("one",), "one"))),
    Problem("running_sum", "Return the list of running totals of a list of numbers.",
            "def running_sum(xs):\n    out = []\n    total = 0\n    for x in xs:\n        out.append(total)\n        total += x\n    return out\n",
            "def running_sum(xs):\n    out = []\n    total = 0\n    for x in xs:\n        total += x\n        out.append(total)\n    return out\n",
            ((([1, 2, 3],), [1, 3, 6]), (([],), []), (([5],), [5]))),
    Problem("is_palindrome", "Is the string a palindrome, ignoring case and non-letters?",
            "def is_palindrome(s):\n    return s == s[::-1]\n",
            "def is_palindrome(s):\n    t = [c.lower() for c in s if c.isalpha()]\n    return t == t[::-1]\n",
            ((("Racecar",), True), (("A man, a plan, a canal: Panama",), True), (("abc",), False))),
    Problem("average", "Return the mean of a list of numbers, or 0.0 for an empty list.",
            "def average(xs):\n    return sum(xs) / len(xs)\n",
            "def average(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n",
            ((([2, 4],), 3.0), (([],), 0.0), (([1, 2, 3, 4],), 2.5))),
    Problem("second_largest", "Return the second largest distinct value of a list with at least two distinct values.",
            "def second_largest(xs):\n    return sorted(xs)[-2]\n",
            "def second_largest(xs):\n    return sorted(set(xs))[-2]\n",
            ((([1, 5, 3],), 3), (([4, 4, 2],), 2), (([9, 9, 8, 9],), 8))),
    Problem("clamp", "Clamp x into the closed interval [lo, hi].",
            "def clamp(x, lo, hi):\n    return max(hi, min(lo, x))\n",
            "def clamp(x, lo, hi):\n    return max(lo, min(hi, x))\n",
            (((5, 0, 10), 5), ((-3, 0, 10), 0), ((12, 0, 10), 10))),
    Problem("word_lengths", "Map each distinct word of a sentence to its length.",
            "def word_lengths(s):\n    return {w: len(s) for w in s.split()}\n",
            "def word_lengths(s):\n    return {w: len(w) for w in s.split()}\n",
            ((("hi there",), {"hi": 2, "there": 5}), (("",), {}), (("a a",), {"a": 1}))),
)


def get_problem(name: str) -> Problem:
    for p in PROBLEMS:
        if p.name == name:
            return p
    raise KeyError(f"no code-repair problem {name!r}; choose one of {', '.join(p.name for p in PROBLEMS)}")


def make_splits(seed: int, n_train: int = 5, n_val: int = 2, n_test: int = 3) -> tuple[list[Problem], ...]:
    """Disjoint train/validation/test lists of problems, shuffled by `seed`."""
    if n_train + n_val + n_test > len(PROBLEMS):
        raise ValueError(f"only {len(PROBLEMS)} problems: ask for at most that many in total")
    order = list(PROBLEMS)
    random.Random(seed).shuffle(order)
    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:n_train + n_val + n_test]


def run_tests(problem: Problem, agent: Any) -> tuple[float, str, list[Node]]:
    """Run `agent(*args)` on every test; the pass rate, the test report, and the result nodes.

    An exception is a failed test whose report line carries the error and its line.
    """
    lines, outputs, passed = [], [], 0
    for args, expected in problem.tests:
        call = f"{problem.name}({', '.join(map(repr, args))})"
        try:
            out = agent(*args)
        except ExecutionError as exc:
            outputs.append(exc.node)
            lines.append(f"FAIL {call} raised {exc.node.value}")
            continue
        outputs.append(out)
        got = out.value if isinstance(out, Node) else out
        if got == expected:
            passed += 1
            lines.append(f"ok   {call} == {expected!r}")
        else:
            lines.append(f"FAIL {call} returned {got!r}, expected {expected!r}")
    total = len(problem.tests)
    report = f"{passed}/{total} tests passed\n" + "\n".join(lines)
    return passed / total, report, outputs


# --- the simulated LLM's profile: each problem's reference fix, keyed to failing tests ---
_FAIL_WORDS = ("FAIL", "failed", "raised", "returned", "expected", "Error")


class CodeRepairProfile(TaskProfile):
    """The simulator's knowledge of the code-repair problems.

    It recognizes a problem's function by its name in the code and offers the
    reference fix as the one candidate. Its keywords are the test harness's words
    for failures, so the sim picks it when the request shows failing tests, and only
    guesses otherwise (as for every code fix; see docs/sim.md).
    """

    name = "code_repair"
    description = "fix small Python functions so that their unit tests pass"
    keywords = ("tests passed", "unit tests")

    def solve(self, item: str) -> str:
        raise ValueError("code repair has no question items")

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        raise ValueError("code repair has no question items")

    def code_fixes(self, code: str, evidence: str) -> list[CodeFix]:
        fixes = []
        for p in PROBLEMS:
            if re.search(rf"^\s*def\s+{p.name}\s*\(", code, re.MULTILINE) and code.strip() != p.fixed.strip():
                fixes.append(CodeFix(name=f"fix_{p.name}", description=f"Make {p.name} meet its spec: "
                                     f"{p.description}", new_code=p.fixed, keywords=_FAIL_WORDS))
        return fixes


PROFILE = CodeRepairProfile()
