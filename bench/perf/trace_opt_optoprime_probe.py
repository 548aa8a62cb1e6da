"""Measures trace-opt's (Trace) OptoPrime steps on N float parameters summed.

A standalone script run by `bench.py` with the interpreter that has trace-opt (its
own virtual environment), against the sim-server at BASE_URL:

    python trace_opt_optoprime_probe.py N BASE_URL PROMPT_FILE [REPETITIONS [LIMIT_S]]

First one warm-up step on N = 10 (imports and first-use costs, as the caller does
for undertow), then up to REPETITIONS steps on fresh graphs of N parameters (values
`i % 7 + k / 8` at the k-th step, as undertow's probe makes them), each timed on its
own, stopping early once LIMIT_S of step time is spent. Prints one JSON
object: `cpu_ms` (this process's CPU time in each step: the sim server's work is in
another process), `sdk_cpu_ms` (the part of it spent inside the OpenAI SDK's
`chat.completions.create`, which both frameworks call), `backward_ms` (each), `updated`
(parameters whose value changed, first repetition) and `n`; the prompt of the first
repetition goes to PROMPT_FILE so that the caller counts its tokens with the same
tokenizer as its own. {"error": ...} when trace-opt is missing or fails.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(n: int, base_url: str, prompt_file: str, repetitions: int = 1, limit_s: float = 60.0) -> dict:
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
    sdk = [0.0]

    class Recording(CustomLLM):
        def create(self, **config):
            calls[0] += 1
            for m in config.get("messages", []):  # system and user: the whole prompt
                sent.append(str(m.get("content", "")))
            c = time.thread_time()
            try:
                return super().create(**config)
            finally:
                sdk[0] += time.thread_time() - c

    llm = Recording()

    def one(size: int, shift: float = 0.0) -> dict:
        xs = [node(float(i % 7) + shift, trainable=True, name=f"x{i}") for i in range(size)]
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        opt = OptoPrime(xs, llm=llm)
        opt.zero_feedback()
        before = [x.data for x in xs]
        sent.clear()
        calls[0], sdk[0] = 0, 0.0
        t = time.perf_counter()
        opt.backward(total, f"The sum should be {2.0 * size}; make it larger")
        backward_ms = (time.perf_counter() - t) * 1e3
        c, w = time.process_time(), time.perf_counter()
        opt.step()
        return {"cpu_ms": (time.process_time() - c) * 1e3, "sdk_cpu_ms": sdk[0] * 1e3,
                "backward_ms": backward_ms, "step_wall_s": time.perf_counter() - w,
                "updated": sum(1 for x, b in zip(xs, before) if x.data != b), "requests": calls[0],
                "prompt": "\n\n".join(sent)}

    one(10)  # warm-up
    runs: list[dict] = []
    spent = 0.0
    while len(runs) < max(1, repetitions) and (not runs or spent < limit_s):
        got = one(n, shift=(len(runs) + 1) / 8)
        spent += got["step_wall_s"] + got["backward_ms"] / 1e3
        runs.append(got)
    with open(prompt_file, "w") as f:
        f.write(runs[0]["prompt"])
    return {"n": n, "repetitions": len(runs), "cpu_ms": [r["cpu_ms"] for r in runs],
            "sdk_cpu_ms": [r["sdk_cpu_ms"] for r in runs], "backward_ms": [r["backward_ms"] for r in runs],
            "updated": runs[0]["updated"], "requests": runs[0]["requests"],
            "step_wall_s": [r["step_wall_s"] for r in runs]}


if __name__ == "__main__":
    try:
        args = sys.argv[1:]
        result = main(int(args[0]), args[1], args[2], *(int(args[3]),) if len(args) > 3 else (),
                      *(float(args[4]),) if len(args) > 4 else ())
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        result = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    print(json.dumps(result))
