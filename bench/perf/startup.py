"""`undertow perf startup`: how long the command line takes to start, against the
libraries it cannot do without.

Each repetition runs, side by side in fresh interpreters, `undertow --help` (as
`python -m undertow --help`) and the baseline `python -c "import typer, rich"`;
the order alternates so that neither always runs on a warmer cache. Wall-clock
minimums are the figure compared (the least disturbed run of each); CPU time (user +
system, from the children's resource usage) is reported beside it, since it is less
sensitive to other work on a loaded machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

COMMANDS: dict[str, list[str]] = {
    "undertow_help": [sys.executable, "-m", "undertow", "--help"],
    "import_typer_rich": [sys.executable, "-c", "import typer, rich"],
}
#: `undertow --help` may cost at most this many times the baseline.
TARGET_RATIO = 2.5


def _run_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "COLUMNS": "100"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(repetitions: int = 15) -> dict[str, Any]:
    """Time both commands `repetitions` times each, interleaved; one JSON-ready dict."""
    if repetitions < 1:
        raise ValueError("repetitions must be at least 1")
    for argv in COMMANDS.values():  # warm the file cache once, untimed
        _run_once(argv)
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for i in range(repetitions):
        for name in names if i % 2 == 0 else names[::-1]:
            wall, cpu = _run_once(COMMANDS[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
    stats = {name: {"wall_min_s": round(min(walls[name]), 4),
                    "wall_median_s": round(statistics.median(walls[name]), 4),
                    "cpu_min_s": round(min(cpus[name]), 4)} for name in COMMANDS}
    ratio = stats["undertow_help"]["wall_min_s"] / stats["import_typer_rich"]["wall_min_s"]
    cpu_ratio = stats["undertow_help"]["cpu_min_s"] / max(stats["import_typer_rich"]["cpu_min_s"], 1e-9)
    return {
        "suite": "startup",
        "repetitions": repetitions,
        "commands": {name: " ".join(argv[1:]) for name, argv in COMMANDS.items()},
        "results": stats,
        "ratio_wall_min": round(ratio, 3),
        "ratio_cpu_min": round(cpu_ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
