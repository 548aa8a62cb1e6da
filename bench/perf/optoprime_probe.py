"""Measures undertow's OptoPrime steps in a fresh interpreter, as trace-opt's are measured.

    python -m undertow.bench.perf.optoprime_probe N BASE_URL REPETITIONS LIMIT_S [uncached]

`undertow perf bench` runs this once per N, so that both frameworks' steps are timed
the same way: each in an interpreter of its own that has done nothing but import,
one warm-up step on N = 10, then up to REPETITIONS steps on fresh graphs of N
parameters whose values change every step (stopping once LIMIT_S of step time is
spent), all through one LLM client (trace-opt's probe also makes its client once).
Measured in the bench's own process instead, after the runner and executor parts, our
steps carried that process's larger heap and whatever Ray was still shutting down. Prints one JSON object: `steps`,
a list of `_undertow_step` results (see `bench.py`). With `uncached`, token counts are
not kept from one step to the next (`tokens.COUNTS`): every section is counted every step.
"""

from __future__ import annotations

import json
import sys


def main(n: int, base_url: str, repetitions: int, limit_s: float, cached: bool = True) -> dict:
    import dataclasses

    from undertow.bench.perf.bench import _time_sdk, _undertow_step
    from undertow.engine.llm import make_llm
    from undertow.optimizers.opto.tokens import token_counter

    count = token_counter()
    if not cached:  # every section counted every step, as before the count cache
        count = dataclasses.replace(count, cache=None)
    llm = make_llm("openai:sim", base_url=base_url, api_key="bench", cache_dir=False)
    sdk = _time_sdk(llm.backend)
    try:
        _undertow_step(10, llm, sdk, count)  # warm-up: imports, connection, tokenizer
        steps: list[dict] = []
        spent = 0.0
        while len(steps) < max(1, repetitions) and (not steps or spent < limit_s):
            steps.append(_undertow_step(n, llm, sdk, count, shift=(len(steps) + 1) / 8))
            spent += steps[-1]["step_wall_s"] + steps[-1]["backward_ms"] / 1e3
    finally:
        llm.close()
    return {"steps": steps}


if __name__ == "__main__":
    a = sys.argv[1:]
    print(json.dumps(main(int(a[0]), a[1], int(a[2]), float(a[3]), cached=a[4:5] != ["uncached"])))
