"""`undertow perf sim`: how fast the simulated LLM answers, and its share of a benchmark.

- `requests_per_s`: the in-process `SimLLM` on typical requests of about 1k, 2k, 4k and
  8k tokens for three roles: an *answerer* (instructions, few-shot demonstrations,
  one item), a *critic* (a variable, failing examples, "give feedback") and an
  *optimizer* (a variable, failing examples with feedback, a JSON reply). Every call
  gets a distinct request (no cache inside the sim can answer it); the figure is the
  median over `repeats` rounds of calls / seconds.
- `bench_share`: the docs/evidence.md command (tasks x optimizers x seeds, sim LLM;
  `quick` runs fewer seeds and tasks), run inline with one worker, timing every
  `SimLLM.complete` call by the CPU time of its thread (batch calls run in threads
  whose wall times overlap): share = CPU time inside the sim / wall time of the run.
  The target is a share of at most 25 %: the judge must not be the bottleneck.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from undertow.bench.sim import SimLLM
from undertow.bench.sim.tokens import count_message_tokens
from undertow.bench.tasks.reasoning import boolean_expressions as be

SIZES = (1000, 2000, 4000, 8000)
ROLES = ("answerer", "critic", "optimizer")
#: The docs/evidence.md command's setting.
EVIDENCE: dict[str, Any] = {
    "tasks": ["numeric_dag", "battleship", "boolean_expressions", "traffic", "code_repair"],
    "optimizers": ["none", "adam", "tpe", "optoprime", "textgrad", "opro", "mcts", "beam"],
    "seeds": 5, "budget": "calls=150", "steps": 6, "n_train": 30, "n_val": 20, "n_test": 60,
    "batch_size": 8}
QUICK: dict[str, Any] = {**EVIDENCE, "tasks": ["boolean_expressions", "numeric_dag"],
                         "optimizers": ["optoprime", "textgrad", "opro"], "seeds": 1}


def _example(rng: random.Random) -> tuple[str, str, str]:
    ex = be.generate(rng)
    wrong = be.PROFILE.answer_without(ex.input, frozenset(s.name for s in be.PROFILE.skills))
    return ex.input, wrong, ex.target


def _answerer(rng: random.Random, tokens: int) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": "Evaluate the boolean expression. Think step by step. "
                                          + be.PROFILE.skill("answer_format").fix}]
    while count_message_tokens([(m["role"], m["content"]) for m in msgs]) < tokens:
        item, _, right = _example(rng)
        msgs += [{"role": "user", "content": item},
                 {"role": "assistant", "content": f"I work it out.\nAnswer: {right}"}]
    msgs.append({"role": "user", "content": _example(rng)[0]})
    return msgs


def _shown(rng: random.Random, tokens: int, head: str, ask: str) -> list[dict[str, str]]:
    parts = [head]
    while count_message_tokens([("user", "\n".join(parts + [ask]))]) < tokens:
        item, out, right = _example(rng)
        parts.append(f"<example>\n<input>{item}</input>\n<output>{out}</output>\n"
                     f"<expected>{right}</expected>\n<feedback>Wrong: the answer is {right}, "
                     f"not {out}.</feedback>\n</example>")
    return [{"role": "user", "content": "\n".join(parts + [ask])}]


def _critic(rng: random.Random, tokens: int) -> list[dict[str, str]]:
    return _shown(rng, tokens, '<variable name="system_prompt" kind="text">Evaluate the '
                  "expression.</variable>", "Give feedback on the variable: what is wrong with it?")


def _optimizer(rng: random.Random, tokens: int) -> list[dict[str, str]]:
    return _shown(rng, tokens, '<variable name="system_prompt" kind="text">Evaluate the '
                  "expression.</variable>", 'Propose a new value of the variable. Reply in JSON '
                  'with keys "reasoning" and "suggestion".')


MAKERS: dict[str, Callable[[random.Random, int], list[dict[str, str]]]] = {
    "answerer": _answerer, "critic": _critic, "optimizer": _optimizer}


def requests_per_s(calls: int, repeats: int) -> dict[str, dict[str, float]]:
    """Median requests/second per role and size (distinct requests every call)."""
    sim = SimLLM()
    out: dict[str, dict[str, float]] = {}
    for role in ROLES:
        out[role] = {}
        for size in SIZES:
            rng = random.Random(f"{role}/{size}")
            rates = []
            for _ in range(repeats):
                batch = [MAKERS[role](rng, size) for _ in range(calls)]
                t0 = time.perf_counter()
                for msgs in batch:
                    sim.complete(msgs)
                rates.append(calls / (time.perf_counter() - t0))
            out[role][str(size)] = round(statistics.median(rates), 1)
    return out


def bench_share(setting: dict[str, Any]) -> dict[str, Any]:
    """The sim's share of the wall time of the bench run `setting` (inline, one worker)."""
    from undertow.bench.runner import make_config, start

    spent = [0.0, 0]
    lock = threading.Lock()
    original = SimLLM.complete

    def timed(self: SimLLM, *args: Any, **kwargs: Any) -> Any:
        # CPU time of the calling thread: calls made from several threads at once (the
        # client's batch calls) wait on each other for the GIL, and their wall times overlap.
        t0 = time.thread_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                spent[0] += time.thread_time() - t0
                spent[1] += 1

    config = make_config(setting["tasks"], setting["optimizers"], llm="sim", seeds=setting["seeds"],
                         budget=setting["budget"], steps=setting["steps"], workers=1,
                         n_train=setting["n_train"], n_val=setting["n_val"],
                         n_test=setting["n_test"], batch_size=setting["batch_size"])
    SimLLM.complete = timed  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            start(config, f"{tmp}/runs", console=_quiet_console())
            wall = time.perf_counter() - t0
    finally:
        SimLLM.complete = original  # type: ignore[method-assign]
    return {"wall_s": round(wall, 2), "sim_cpu_s": round(spent[0], 2), "sim_calls": spent[1],
            "share": round(spent[0] / wall, 4) if wall > 0 else None, "target_share_max": 0.25,
            "runs": len(config.runs), "setting": setting}


def _quiet_console() -> Any:
    import io

    from rich.console import Console

    return Console(file=io.StringIO())


def run(quick: bool = False) -> dict[str, Any]:
    """Both measurements as one JSON-ready dict (llm=sim)."""
    calls, repeats = (10, 3) if quick else (40, 5)
    return {"benchmark": "sim", "llm": "sim", "calls_per_round": calls, "repeats": repeats,
            "requests_per_s": requests_per_s(calls, repeats),
            "bench_share": bench_share(QUICK if quick else EVIDENCE)}
