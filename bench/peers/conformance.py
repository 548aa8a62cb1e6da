"""Does the simulator read the peers' stock requests as it reads undertow's?

Two measurements, both generated at run time from the installed peers (no peer
prompt text lives in this repository):

1. **Same information, same diagnosis** (`diagnose_same_scenario`). A fixed scenario
   (reasoning-task items, the outputs a weak prompt gives, undertow's feedback on
   them) is played to every peer and to undertow's own optimizers through a scripted
   server: forward requests get the scenario's outputs, so every framework sees the
   same items, outputs and feedback; the first optimizer (and critic) request of each
   is captured and handed to the simulator's `diagnose`. The report says, per peer,
   whether its diagnosis equals undertow's (the comparable part: role, items read,
   answers read, expected answers, feedback present, evidence, skills).
2. **Evidence share in a small run** (`evidence_shares`). Each peer and undertow's
   OptoPrime and TextGrad optimize the same train split for a few steps against a
   sim-server; the server's counters say which share of optimizer requests the
   simulator answered from evidence rather than by guessing.

Both need the simulator's request diagnosis and counters (`SimLLM.diagnose`,
`/_undertow/stats` "sim"); where the installed simulator lacks them the report says so.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from undertow.bench.peers.catalog import OPTIMIZERS
from undertow.bench.peers.install import is_installed
from undertow.bench.peers.run import run_peer
from undertow.engine.llm import Budget

FORWARD = "answer"


def _pairs(messages: Any) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        role = m.get("role", "user") if isinstance(m, dict) else getattr(m, "role", "user")
        content = m.get("content", "") if isinstance(m, dict) else getattr(m, "content", "")
        if isinstance(content, list):
            content = "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(getattr(p, "text", p))
                                for p in content)
        out.append((str(role), "" if content is None else str(content)))
    return out


def as_dicts(messages: Any) -> list[dict[str, str]]:
    return [{"role": r, "content": c} for r, c in _pairs(messages)]


@dataclass
class Scenario:
    """Items of one reasoning task, the outputs a weak prompt gave, and undertow's feedback."""

    task: str
    seed: int
    items: list[Any]                 # bench Examples (input, target)
    outputs: list[str]
    feedback: list[str]
    prompt: str = "Answer the question."

    def job(self) -> dict[str, Any]:
        items = [{"input": x.input, "target": x.target} for x in self.items]
        return {"task": self.task, "initial_prompt": self.prompt, "train": items, "val": items,
                "steps": 1, "batch_size": len(items), "options": {"max_metric_calls": 2 * len(items),
                                                                   "breadth": 2, "num_candidates": 2}}

    def feedback_fn(self) -> Any:
        from undertow.bench.runner.tasks import reasoning_feedback

        fb = reasoning_feedback(self.task)

        def feedback(split: str, index: int, output: str) -> tuple[float, str]:
            # the scripted forward replies make `output` the scenario's output (or its answer part)
            got = fb(self.outputs[index], self.items[index])
            return float(got.score or 0.0), got.sentence

        return feedback


def make_scenario(task: str = "boolean_expressions", seed: int = 0, n: int = 4) -> Scenario:
    """n train items of `task`; their outputs are the in-process simulator's replies to
    undertow's plain prompt, their feedback the task's own sentences."""
    from undertow.bench.runner.tasks import INITIAL_PROMPT, reasoning_feedback
    from undertow.bench.sim import SimLLM
    from undertow.bench.tasks.reasoning import make_splits

    items = make_splits(task, seed, n, 1, 1).train[:n]
    sim = SimLLM(seed=seed)
    outputs = [sim.complete([{"role": "system", "content": INITIAL_PROMPT},
                             {"role": "user", "content": x.input}]).text for x in items]
    fb = reasoning_feedback(task)
    return Scenario(task, seed, items, outputs, [fb(o, x).sentence for o, x in zip(outputs, items)],
                    INITIAL_PROMPT)


class ScriptedResponder:
    """Forward requests (one scenario item, none of its outputs or wrong-answer feedback)
    get that item's scenario output, in the field structure the request defines (DSPy's
    `[[ ## field ## ]]` outputs); everything else is recorded and answered by the
    simulator, so the framework carries on."""

    def __init__(self, scenario: Scenario, sim: Any) -> None:
        self.scenario, self.sim = scenario, sim
        self.requests: list[list[dict[str, str]]] = []
        self.lock = threading.Lock()
        # long enough not to occur in an item by chance ("True" does)
        self.markers = [o.strip() for o in scenario.outputs if len(o.strip()) >= 24]
        self.markers += [f for f in scenario.feedback if f.startswith("Wrong")]

    def _forward_item(self, text: str) -> int | None:
        found = [k for k, x in enumerate(self.scenario.items) if x.input in text]
        if len(found) != 1 or any(m in text for m in self.markers):
            return None
        return found[0]

    def complete(self, messages: Any, *, model: str = "sim", temperature: float | None = 0.0,
                 seed: int | None = None, sample_index: int = 0, max_tokens: int | None = None) -> Any:
        from undertow.bench.sim.llm import SimReply

        msgs = as_dicts(messages)
        text = "\n".join(m["content"] for m in msgs)
        k = self._forward_item(text)
        if k is not None and hasattr(self.sim, "diagnose") and self.sim.diagnose(msgs).role != "answer":
            k = None  # a critique of one item's output is not a forward call: the sim answers it
        if k is not None:
            reply = self._format(self.scenario.outputs[k], text)
            return SimReply(text=reply, prompt_tokens=len(text) // 4, completion_tokens=len(reply) // 4)
        with self.lock:
            self.requests.append(msgs)
        return self.sim.complete(msgs, model=model, temperature=temperature or 0.0, seed=seed,
                                 sample_index=sample_index, max_tokens=max_tokens)

    @staticmethod
    def _format(output: str, request: str) -> str:
        fields = re.findall(r"\[\[ ## (\w+) ## \]\]", request)
        if "answer" not in fields:
            return output
        m = re.search(r"Answer:\s*(.+)\s*$", output.strip())
        answer = m.group(1).strip() if m else output.strip().splitlines()[-1]
        reasoning = output.strip()
        return (f"[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## answer ## ]]\n{answer}\n\n"
                "[[ ## completed ## ]]")


def _comparable(diagnosis: Any) -> Any:
    key = diagnosis.key() if hasattr(diagnosis, "key") else diagnosis
    return json.loads(json.dumps(key, default=str, sort_keys=True))


def _normalized(key: Any) -> Any:
    """The key with the order of a batch left out: its parts keep their place, and a part
    that is a list (items, skills) is compared as a sorted list."""
    def sort(v: Any) -> Any:
        return sorted(v, key=lambda x: json.dumps(x, sort_keys=True)) if isinstance(v, list) else v

    if isinstance(key, dict):
        return {k: sort(v) for k, v in key.items()}
    if isinstance(key, list):
        return [sort(v) for v in key]
    return key


def sim_can_diagnose() -> str:
    """'' when the installed simulator has `diagnose` and counters; else why not."""
    from undertow.bench.sim import SimLLM

    if not hasattr(SimLLM(), "diagnose"):
        return "the installed simulator has no SimLLM.diagnose (issue #11, simulator half)"
    return ""


@dataclass
class Captured:
    """The non-forward requests one framework sent in the scenario, with their diagnoses."""

    who: str
    requests: list[list[dict[str, str]]] = field(default_factory=list)
    error: str = ""

    def first(self, sim: Any, role: str) -> tuple[list[dict[str, str]], Any] | None:
        for msgs in self.requests:
            d = sim.diagnose(msgs)
            if d.role == role:
                return msgs, d
        return None


def capture_peer(optimizer: str, scenario: Scenario, workdir: Path) -> Captured:
    """Play the scenario to a peer optimizer (one step) and keep what it asked."""
    from undertow.bench.sim import SimLLM
    from undertow.bench.sim.server import running_server

    responder = ScriptedResponder(scenario, SimLLM(seed=scenario.seed))
    with running_server(responder) as srv:
        result = run_peer(optimizer, llm=f"openai-compatible:{srv.openai_base_url}#sim", seed=scenario.seed,
                          budget=Budget(max_calls=6 * len(scenario.items) + 8), job=scenario.job(),
                          feedback=scenario.feedback_fn(), workdir=workdir, timeout_s=600)
    return Captured(optimizer, responder.requests, result.error if result.stopped == "error" else "")


def capture_undertow(optimizer: str, scenario: Scenario) -> Captured:
    """Play the scenario to undertow's own optimizer ("optoprime" or "textgrad"), one step."""
    from undertow.agents.cot_qa import ChainOfThoughtQA
    from undertow.bench.sim import SimLLM
    from undertow.bench.sim.server import running_server
    from undertow.engine import TextualPropagator, backward
    from undertow.engine.llm import make_llm

    responder = ScriptedResponder(scenario, SimLLM(seed=scenario.seed))
    with running_server(responder) as srv:
        llm = make_llm(f"openai-compatible:{srv.openai_base_url}#sim", cache_dir=False, api_key="undertow-local")
        agent = ChainOfThoughtQA(llm, scenario.prompt)
        agent.instruction.name = "system_prompt"
        agent.instruction.description = f"the system prompt of an agent answering {scenario.task} items"
        if optimizer == "optoprime":
            from undertow.optimizers.opto import OptoPrime

            opt: Any = OptoPrime([agent.instruction], llm, memory_size=3)
            propagator: Any = "subgraph"
        else:
            from undertow.optimizers.textgrad import TextGrad

            opt, propagator = TextGrad([agent.instruction], llm), TextualPropagator(llm)
        outs = [agent(x.input) for x in scenario.items]
        from undertow.engine import Feedback

        backward(outs, [Feedback(f, 1.0 if f == "Correct" else 0.0) for f in scenario.feedback], propagator)
        opt.step()
        llm.close()
    return Captured(f"undertow:{optimizer}", responder.requests)


#: Which undertow optimizer each peer is compared with, per role of its request.
COUNTERPART = {"trace:optoprime": "optoprime", "textgrad:tgd": "textgrad", "dspy:copro": "optoprime",
               "dspy:miprov2": "optoprime", "gepa:optimize": "optoprime"}


def diagnose_same_scenario(workdir: Path, optimizers: list[str] | None = None,
                           scenario: Scenario | None = None) -> dict[str, Any]:
    """Per installed peer: its first optimizer/critic request's diagnosis beside undertow's."""
    from undertow.bench.sim import SimLLM

    why = sim_can_diagnose()
    if why:
        return {"skipped": why}
    scenario = scenario or make_scenario()
    sim = SimLLM(seed=scenario.seed)
    ours = {name: capture_undertow(name, scenario) for name in ("optoprime", "textgrad")}
    report: dict[str, Any] = {"scenario": {"task": scenario.task, "seed": scenario.seed,
                                           "items": len(scenario.items),
                                           "wrong": sum(f != "Correct" for f in scenario.feedback)},
                              "peers": {}}
    for name in optimizers or list(OPTIMIZERS):
        if not is_installed(OPTIMIZERS[name].package):
            report["peers"][name] = {"skipped": f"{OPTIMIZERS[name].package} is not installed"}
            continue
        got = capture_peer(name, scenario, Path(workdir) / name.replace(":", "_"))
        row: dict[str, Any] = {"requests": len(got.requests), "driver_error": got.error[:300]}
        for role in ("optimize", "critique"):
            theirs = got.first(sim, role)
            mine = ours[COUNTERPART[name]].first(sim, role)
            if theirs is None:
                continue
            tk = _normalized(_comparable(theirs[1]))
            row[role] = {"peer": tk, "evidence": getattr(theirs[1], "evidence", None)}
            if mine is not None:
                uk = _normalized(_comparable(mine[1]))
                row[role].update({"undertow": uk, "same": tk == uk})
        report["peers"][name] = row
    return report


def evidence_shares(workdir: Path, *, task: str = "boolean_expressions", seed: int = 0, steps: int = 2,
                    batch_size: int = 4, n_train: int = 12, calls: int = 120,
                    optimizers: list[str] | None = None) -> dict[str, Any]:
    """Share of optimizer requests answered from evidence, per peer and for undertow's
    OptoPrime and TextGrad, on the same train split, each through a sim-server."""
    from undertow.bench.peers.tasks import reasoning_feedback_fn, reasoning_job
    from undertow.bench.runner.metered import build_llms
    from undertow.bench.runner.tasks import ReasoningRun, SplitSizes, TaskContext
    from undertow.bench.sim.server import start_in_subprocess

    def agent_on(spec: str, propagator: str) -> Any:
        llm, ev = build_llms(spec, seed=seed, cache_dir=None, budget=Budget(max_calls=calls))
        return ReasoningRun(task, TaskContext(seed=seed, llm=llm, eval_llm=ev, sizes=SplitSizes(n_train, 4, 4),
                                              batch_size=batch_size, propagator=propagator))

    out: dict[str, Any] = {"task": task, "seed": seed, "steps": steps, "batch_size": batch_size,
                           "budget_calls": calls, "llm": "sim", "rows": {}}
    for name in ("optoprime", "textgrad"):
        import random

        from undertow.bench.registry import get_optimizer_entry

        entry = get_optimizer_entry(name)
        with start_in_subprocess(sim_seed=seed) as srv:
            agent = agent_on(f"openai-compatible:{srv.openai_base_url}#sim", entry.propagator)
            opt = entry.factory(agent.parameters, agent.llm, None, agent)  # type: ignore[arg-type]
            rng = random.Random(f"undertow-bench/{task}__{name}__s{seed}")
            for _ in range(steps):
                agent.run_step(opt, rng)
            sim = srv.stats().get("sim")
        out["rows"][f"undertow:{name}"] = _share_row(sim)
    for name in optimizers or list(OPTIMIZERS):
        if not is_installed(OPTIMIZERS[name].package):
            out["rows"][name] = {"skipped": f"{OPTIMIZERS[name].package} is not installed"}
            continue
        agent = agent_on("sim", "subgraph")
        job = reasoning_job(agent, steps=steps, batch_size=batch_size,
                            options={"max_metric_calls": calls, "breadth": 2, "num_candidates": 2})
        result = run_peer(name, llm="sim", seed=seed, budget=Budget(max_calls=calls), job=job,
                          feedback=reasoning_feedback_fn(agent), workdir=Path(workdir) / f"share_{name.replace(':', '_')}")
        row = _share_row(result.notes.get("sim"))
        row.update({"framework": result.framework, "stopped": result.stopped, "error": result.error[:300],
                    "calls": result.spent.get("calls")})
        out["rows"][name] = row
    return out


def _share_row(sim: dict[str, Any] | None) -> dict[str, Any]:
    if not sim:
        return {"optimizer_evidence_share": None,
                "note": "the sim-server reports no simulator counters (issue #11, simulator half)"}
    return {"optimizer_evidence_share": sim.get("optimizer_evidence_share"),
            "critic_evidence_share": sim.get("critic_evidence_share"),
            "by_role": sim.get("by_role"), "from_evidence": sim.get("from_evidence"),
            "guessed": sim.get("guessed")}
