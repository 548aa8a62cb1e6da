"""`undertow perf opto-parse`: OptoPrime's reply reader on adversarial input.

Each case is a reply of about `size` characters built to be expensive (deep
nesting, unclosed strings, many false starts, fences without ends) or a large valid
reply written sloppily. Figures: the median seconds of `parse_reply` over
`repetitions` runs per case; `scaling` = time at `size` / time at `size / 10`
(10 means linear); `worst_s` and `within_target` (worst <= 0.1 s at 100 KB).
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from undertow.optimizers.opto.parse import parse_reply

TARGET_S = 0.1


def _cases() -> dict[str, Callable[[int], str]]:
    code = "def f(x):\n\tif x > 0:\n\t\treturn 'pos'\n\treturn \"neg\"  # {not: json}\n"
    return {
        "open_braces": lambda n: "{" * n,
        "open_brackets": lambda n: "[" * n,
        "nested_keys": lambda n: '{"a":' * (n // 5),
        "nested_single_quotes": lambda n: "{'a': (" * (n // 7),
        "quotes": lambda n: '"' * n,
        "unclosed_string": lambda n: "{'a': '" + "x" * n,
        "false_starts_in_prose": lambda n: "see {x} and " * (n // 12),
        "unclosed_fences": lambda n: "```json\n{" * (n // 9),
        "balanced_deep": lambda n: "[" * (n // 2) + "]" * (n // 2),
        # a large readable reply: single quotes, raw newlines and tabs, trailing commas
        "valid_sloppy_code": lambda n: ("{'reasoning': 'r', 'suggestion': {'f.code': '"
                                        + (code * (n // len(code))).replace("'", "\\'") + "',},}"),
    }


def _time(text: str, repetitions: int) -> float:
    samples = []
    for _ in range(repetitions):
        t = time.perf_counter()
        parse_reply(text)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def run(quick: bool = False, size: int = 100_000) -> dict[str, Any]:
    """Measure every case at `size` and `size // 10` characters."""
    repetitions = 3 if quick else 7
    cases: dict[str, Any] = {}
    for name, make in _cases().items():
        big, small = make(size), make(size // 10)
        t_big, t_small = _time(big, repetitions), _time(small, repetitions)
        cases[name] = {"chars": len(big), "seconds": round(t_big, 5),
                       "scaling": round(t_big / t_small, 1) if t_small > 0 else None}
    worst = max(c["seconds"] for c in cases.values())
    return {"suite": "opto-parse", "python": sys.version.split()[0], "machine": platform.machine(),
            "repetitions": repetitions, "size_chars": size, "cases": cases,
            "worst_s": worst, "target_s": TARGET_S, "within_target": worst <= TARGET_S}
