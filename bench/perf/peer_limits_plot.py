"""The peers' figure of docs/scale.md "Shared limits": a sweep of a peer optimizer
(trace:optoprime, through its gateway) and an undertow optimizer (optoprime, through our
clients) in 2 worker processes against one rate-limited sim-server, with and without the
sweep's shared limiter; requests per second the server saw and the 429s it answered.

    python -m undertow.bench.perf.peer_limits_plot docs/img/peer-limits.png

Needs the trace-opt peer venv (`undertow peers install trace-opt`). Prints the figures as
JSON (`llm=sim`), with the most requests the server saw in any 1 s window (the limiter
grants at most burst + rate in one), and writes the plot.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from undertow.bench.perf import limits_plot
from undertow.bench.perf.limits_plot import max_in_window

RPM, SERVER_BURST, BURST = 300.0, 4.0, 2.0
OPTIMIZERS = ["trace:optoprime", "optoprime"]


def sweep(limited: bool) -> dict[str, Any]:
    """One sweep against a fresh server enforcing RPM; its arrivals, outcome and ledger."""
    from rich.console import Console

    from undertow.bench.runner import make_config, start
    from undertow.bench.runner.runner import ledger
    from undertow.bench.sim.server import start_in_subprocess

    limits = {"rpm": RPM, "rpm_burst": BURST} if limited else {}
    with start_in_subprocess(rpm=RPM, rpm_burst=SERVER_BURST) as srv, tempfile.TemporaryDirectory() as tmp:
        config = make_config(["boolean_expressions"], OPTIMIZERS, llm=f"openai-compatible:{srv.openai_base_url}#sim",
                             seeds=2, steps=2, budget="calls=40", workers=2, n_train=8, n_val=6, n_test=6,
                             batch_size=2, **limits)
        out = start(config, Path(tmp) / "sweep", console=Console(file=io.StringIO()))
        stats, arrivals = srv.stats(), srv.arrivals()
        book = ledger(Path(tmp) / "sweep")
    tests = [r for r in out.records if r.split == "test"]
    times = sorted(t for t, _ in arrivals)
    return {"limited": limited, "requests": stats["by_path"].get("/v1/chat/completions", 0),
            "rate_limited": stats["rate_limited"], "runs_done": len(out.done), "runs": len(config.runs),
            "max_requests_in_1s": max_in_window(times, 1.0),
            "ledger_train_calls": book["total"]["train"]["calls"],
            "records_train_calls": sum(r.calls for r in tests) if not out.failed else None,
            "train_calls_by_run": {f"{r.optimizer} s{r.seed}": r.calls for r in tests},
            "arrivals": arrivals}


def plot(results: list[dict[str, Any]], path: Path) -> None:
    limits_plot.plot(results, path, rpm=RPM, with_title="with --rpm (peer + ours share it)",
                     title="trace:optoprime + optoprime, 2 workers, vs a sim-server accepting {rpm:g} "
                           "requests/min (llm=sim)")


def main(argv: list[str] | None = None) -> None:
    from undertow.bench.peers.install import require

    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0] if argv else "peer-limits.png")
    require("trace-opt")  # a clear error naming the install command when the peer is absent
    results = [sweep(True), sweep(False)]
    plot(results, path)
    print(json.dumps({"llm": "sim", "rpm": RPM, "server_burst": SERVER_BURST, "limiter_burst": BURST,
                      "optimizers": OPTIMIZERS, "limiter_allows_in_1s": BURST + RPM / 60,
                      "sweeps": [{k: v for k, v in r.items() if k != "arrivals"} for r in results],
                      "plot": str(path)}, indent=1))


if __name__ == "__main__":
    main()
