"""Seeded multi-call tasks over the tool world, and their tolerant checker.

Each task is a numbered list of steps; the answer of the last step is the answer.
They are built so that trusting the shipped (flawed) docs fails: `^` for a power,
`%` for a remainder, leaving out `to km`, writing dates DD/MM/YYYY, paging with
`page=2`.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable

from undertow.bench.tasks.toolworld.base import ToolTask
from undertow.bench.tasks.toolworld.calc import calc, fmt_number
from undertow.bench.tasks.toolworld.calendar import calendar
from undertow.bench.tasks.toolworld.convert import convert
from undertow.bench.tasks.toolworld.kv import PREFIXES, KVStore

KINDS = ("pow_convert", "mod_mul", "convert_km", "biz_weekday", "kv_count")


def _number(text: str) -> str:
    return text.split()[0]


def _pow_convert(rng: random.Random, kv: KVStore) -> tuple[str, str, list[tuple[str, str]]]:
    while True:
        a, b = rng.randint(2, 6), rng.randint(2, 4)
        if a ** b != a ^ b:
            break
    x = calc(f"{a}**{b}")
    out = _number(convert(f"{x} ft to m"))
    q = (f"Step 1: compute {a} to the power {b}.\n"
         f"Step 2: convert the previous result from ft to m and give the number of metres.")
    return q, out, [("calc", f"{a}**{b}"), ("convert", f"{x} ft to m")]


def _mod_mul(rng: random.Random, kv: KVStore) -> tuple[str, str, list[tuple[str, str]]]:
    while True:
        a, b, c = rng.randint(20, 99), rng.randint(3, 12), rng.randint(2, 9)
        if calc(f"{a} mod {b}") != calc(f"{a}%{b}") and a % b:
            break
    r = calc(f"{a} mod {b}")
    q = (f"Step 1: compute the remainder of {a} divided by {b}.\n"
         f"Step 2: multiply the previous result by {c}.")
    return q, calc(f"{r}*{c}"), [("calc", f"{a} mod {b}"), ("calc", f"{r}*{c}")]


def _convert_km(rng: random.Random, kv: KVStore) -> tuple[str, str, list[tuple[str, str]]]:
    n, m = rng.randint(2, 40), rng.randint(1, 50)
    x = _number(convert(f"{n} mi to km"))
    q = (f"Step 1: convert {n} mi to km.\n"
         f"Step 2: add {m} to the previous result.")
    return q, calc(f"{x}+{m}"), [("convert", f"{n} mi to km"), ("calc", f"{x}+{m}")]


def _biz_weekday(rng: random.Random, kv: KVStore) -> tuple[str, str, list[tuple[str, str]]]:
    anchors = [dt.date(2024, 12, 20), dt.date(2024, 7, 1), dt.date(2025, 12, 22), dt.date(2024, 3, 4),
               dt.date(2025, 6, 30), dt.date(2023, 12, 29)]
    start = rng.choice(anchors) + dt.timedelta(days=rng.randint(0, 4))
    k = rng.randint(1, 6)
    end = calendar(f"addbiz {start.isoformat()} {k}").split()[0]
    q = (f"Step 1: add {k} business days to {start.isoformat()}.\n"
         f"Step 2: find the weekday of the previous result.")
    return q, calendar(f"weekday {end}"), [("calendar", f"addbiz {start.isoformat()} {k}"),
                                           ("calendar", f"weekday {end}")]


def _kv_count(rng: random.Random, kv: KVStore) -> tuple[str, str, list[tuple[str, str]]]:
    import json

    prefix = rng.choice(PREFIXES)
    plan, cursor, count = [], None, 0
    while True:
        args = f"list {prefix}" + (f" cursor={cursor}" if cursor else "")
        page = json.loads(kv(args))
        plan.append(("kv", args))
        count += len(page["keys"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    q = (f"Step 1: list the keys under the prefix {prefix} (all pages).\n"
         f"Step 2: count how many keys there are.")
    return q, str(count), plan


GENERATORS: dict[str, Callable[[random.Random, KVStore], tuple[str, str, list[tuple[str, str]]]]] = {
    "pow_convert": _pow_convert, "mod_mul": _mod_mul, "convert_km": _convert_km,
    "biz_weekday": _biz_weekday, "kv_count": _kv_count,
}


def make_tasks(world_seed: int, seed: int, n: int, kv: KVStore) -> list[ToolTask]:
    """`n` tasks for `seed`, cycling through the kinds (so every kind is represented)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(f"toolworld-tasks:{world_seed}:{seed}")
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        q, answer, plan = GENERATORS[kind](rng, kv)
        out.append(ToolTask(f"tw{world_seed}-{seed}-{i}", q, answer, tuple(plan), kind))
    return out


_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_answer(expected: str, answer: str) -> float:
    """1.0 when `answer` states `expected` (numbers within 1e-4 relative, words case-blind)."""
    answer = str(answer).strip()
    if _DATE.fullmatch(expected):
        return float(expected in answer)
    if _NUM.fullmatch(expected):
        nums = _NUM.findall(answer.replace(",", ""))
        if not nums:
            return 0.0
        got, want = float(nums[-1]), float(expected)
        return float(abs(got - want) <= 1e-4 * max(1.0, abs(want)))
    words = re.findall(r"[a-z]+", answer.lower())
    return float(expected.lower() in words)


__all__ = ["KINDS", "check_answer", "fmt_number", "make_tasks"]
