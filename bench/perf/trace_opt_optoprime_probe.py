"""Measures one trace-opt (Trace) OptoPrime step on N float parameters summed.

A standalone script run by `bench.py` with the interpreter that has trace-opt (its
own virtual environment), against the sim-server at BASE_URL:

    python trace_opt_optoprime_probe.py N BASE_URL PROMPT_FILE

Prints one JSON object: `cpu_ms` (this process's CPU time in the step, the sim
server's work excluded: it runs in another process), `backward_ms`, `updated`
(parameters whose value changed) and `n`; the prompt it sent goes to PROMPT_FILE so
that the caller counts its tokens with the same tokenizer as its own. {"error": ...}
when trace-opt is missing or fails.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(n: int, base_url: str, prompt_file: str) -> dict:
    os.environ.update(TRACE_CUSTOMLLM_URL=base_url, TRACE_CUSTOMLLM_MODEL="sim",
                      TRACE_CUSTOMLLM_API_KEY="bench",
                      LITELLM_LOCAL_MODEL_COST_MAP="True")  # offline: no cost-map download
    try:
        from opto.optimizers import OptoPrime
        from opto.trace import node
        from opto.utils.llm import CustomLLM
    except Exception as exc:  # not installed or broken
        return {"error": f"trace-opt not importable: {exc!r}"}
    sent: list[str] = []
    calls = [0]

    class Recording(CustomLLM):
        def create(self, **config):
            calls[0] += 1
            for m in config.get("messages", []):  # system and user: the whole prompt
                sent.append(str(m.get("content", "")))
            return super().create(**config)

    llm = Recording()
    xs = [node(float(i % 7), trainable=True, name=f"x{i}") for i in range(n)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    opt = OptoPrime(xs, llm=llm)
    opt.zero_feedback()
    before = [x.data for x in xs]
    t = time.perf_counter()
    opt.backward(total, f"The sum should be {2.0 * n}; make it larger")
    backward_ms = (time.perf_counter() - t) * 1e3
    c, w = time.process_time(), time.perf_counter()
    opt.step()
    cpu_ms = (time.process_time() - c) * 1e3
    step_wall = time.perf_counter() - w
    with open(prompt_file, "w") as f:
        f.write("\n\n".join(sent))
    updated = sum(1 for x, b in zip(xs, before) if x.data != b)
    return {"n": n, "cpu_ms": cpu_ms, "backward_ms": backward_ms, "updated": updated,
            "step_wall_s": step_wall, "requests": calls[0]}


if __name__ == "__main__":
    try:
        result = main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    print(json.dumps(result))
