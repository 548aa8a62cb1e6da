"""`undertow perf memory`: retrieval latency of the stream memories against memory size.

For memories of N experiences (items of all reasoning tasks, answers and feedback as
ExpRAG stores them), three timings per N, in ms (median and p95):
- `warm`: `ExpRAG.context_for` at a committed generation already indexed (the common
  case inside one step... and the steady state of a memory that is not written);
- `after_write`: the first `context_for` after a new experience was committed: the
  retriever builds the new generation's snapshot index (ExpRAG commits after every
  item, so on a stream this is the latency each item pays);
- `scan`: a baseline in the same process: a Python scan scoring every record by word
  overlap with the item, top 3.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

_WORD = re.compile(r"\w+")


def _ms(samples: list[float]) -> dict[str, float]:
    xs = sorted(samples)
    return {"median_ms": round(statistics.median(xs), 3), "p95_ms": round(xs[min(len(xs) - 1, int(0.95 * len(xs)))], 3)}


def run(quick: bool = False) -> dict[str, Any]:
    from undertow.bench.runner.tasks import SplitSizes  # noqa: F401  (the bench package is loaded)
    from undertow.bench.tasks.stream import make_stream
    from undertow.engine import Parameter
    from undertow.optimizers.experience import ExperienceStore, Trajectory
    from undertow.optimizers.experience.stream import SCOPE, ExpRAG

    sizes = (100, 400) if quick else (100, 1000, 3000)
    queries = make_stream(999, 30, mix="all")
    out: dict[str, Any] = {"suite": "memory", "quick": quick, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            items = make_stream(1, n, mix="all")
            with ExperienceStore(Path(tmp) / f"m{n}.db", ids="sequential") as store:
                for i, it in enumerate(items):
                    ok = i % 3 != 0
                    store.add(Trajectory(input=it.example.input, output=f"Answer: {it.example.target}",
                                         reward=1.0 if ok else 0.0, status="active", scope=SCOPE,
                                         meta={"feedback": "Correct" if ok else "Wrong: expected x"}))
                opt = ExpRAG([Parameter("p")], store=store, k=3)
                opt.generation = store.commit_generation("filled")
                opt.context_for(queries[0].example.input)
                warm = []
                for q in queries:
                    t = time.perf_counter()
                    opt.context_for(q.example.input)
                    warm.append((time.perf_counter() - t) * 1000)
                after = []
                for q in queries[: 5 if quick else 10]:
                    opt.observe(q.example.input, "Answer: 1", 0.0, "Wrong")
                    t = time.perf_counter()
                    opt.context_for(q.example.input)
                    after.append((time.perf_counter() - t) * 1000)
                records = store.records(kinds=["trajectory"])
                words = [(r.id, set(_WORD.findall(" ".join(r.search_fields()).lower()))) for r in records]
                scan = []
                for q in queries:
                    t = time.perf_counter()
                    qw = set(_WORD.findall(q.example.input.lower()))
                    sorted(words, key=lambda w: -len(qw & w[1]))[:3]
                    scan.append((time.perf_counter() - t) * 1000)
                out["sizes"][str(n)] = {"warm": _ms(warm), "after_write": _ms(after), "scan": _ms(scan)}
    return out
