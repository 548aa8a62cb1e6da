"""What a run learned, read back from its folder: `undertow bench show RUN_DIR [--json]`.

`describe_run(folder)` turns a run's checkpoint into plain data:

- `parameters`: each learned parameter with its `kind`, its `initial` and `final`
  values, whether it `changed`, and a unified `diff` for text and code;
- `proposals`: every value an optimizer proposed, by step, with whether it was
  accepted or refused (and why), the score that step reached (the proposal's own
  score where the optimizer measured one, e.g. MCTS's held-out score), and the
  tokens and calls the step spent;
- `steps`: the validation score and spend after each step, then the test score;
- `tree` (MCTS, beam): every node of the search tree with its parent, depth,
  prompt, visits, mean value and reward.

The report uses the same data for the best run of each cell.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.config import CONFIG_FILE, load_config
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.worker import CHECKPOINT, run_dir

#: proposal meta fields that hold a score the optimizer measured for that proposal (TPE's
#: `observed_score` is not one: it scores the values the proposal replaces)
_SCORE_KEYS = ("val_score", "mean_minibatch_score", "score")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True, default=repr)


def value_diff(initial: Any, final: Any, name: str = "value") -> str:
    """A unified diff of two values (text as is, other values as JSON); '' if equal."""
    if initial == final:
        return ""
    a, b = _text(initial).splitlines(keepends=True), _text(final).splitlines(keepends=True)
    if a and not a[-1].endswith("\n"):
        a[-1] += "\n"
    if b and not b[-1].endswith("\n"):
        b[-1] += "\n"
    return "".join(difflib.unified_diff(a, b, f"{name} (initial)", f"{name} (final)"))


def _parameters(state: dict[str, Any]) -> list[dict[str, Any]]:
    final = state["optimizer"].get("parameters", {})
    initial = state.get("initial")
    log = state["optimizer"].get("log", [])
    out = []
    for name, value in final.items():
        if initial and name in initial:
            info = initial[name]
            first, kind, desc = info.get("value"), info.get("kind", ""), info.get("description", "")
        else:  # a checkpoint from before `initial` was saved: the first proposal's old value
            olds = [p["old"] for p in log if p.get("parameter") == name]
            first, kind, desc = (olds[0] if olds else value), "", ""
        textual = kind in ("text", "code") or isinstance(value, str)
        out.append({"name": name, "kind": kind, "description": desc, "initial": first, "final": value,
                    "changed": first != value,
                    "diff": value_diff(first, value, name) if textual else ""})
    return out


def _steps(state: dict[str, Any]) -> list[dict[str, Any]]:
    keep = ("step", "split", "score", "calls", "tokens", "cost_usd", "eval_calls", "stopped")
    return [{k: r.get(k) for k in keep} for r in state.get("records", [])]


def _proposals(state: dict[str, Any]) -> list[dict[str, Any]]:
    vals = {r["step"]: r for r in state.get("records", []) if r.get("split") == "val"}
    marks = state.get("log_marks") or []
    out = []
    for i, p in enumerate(state["optimizer"].get("log", [])):
        meta = p.get("meta") or {}
        if marks:  # the runner noted the log length after each step: proposal i belongs to the first
            # step whose mark is past it; past the last mark it came from finalize()
            step = next((k for k, m in enumerate(marks) if m > i), len(marks))
            phase = "step" if step < len(marks) else "finalize"
        else:  # an older checkpoint: trust the optimizer's own 0-based step counter
            step, phase = int(p.get("step", 0)) + 1, "step"
        after, before = vals.get(step), vals.get(step - 1)
        own = next((meta[k] for k in _SCORE_KEYS if isinstance(meta.get(k), (int, float))), None)
        out.append({
            "step": step, "phase": phase, "parameter": p.get("parameter"), "value": p.get("new"),
            "accepted": bool(p.get("accepted")), "reason": p.get("reason", ""),
            "score": own if own is not None else (after["score"] if after else None),
            "score_source": "proposal" if own is not None else ("val after step" if after else ""),
            "step_tokens": after["tokens"] - before["tokens"] if after and before else None,
            "step_calls": after["calls"] - before["calls"] if after and before else None,
            "meta": meta,
        })
    return out


def _tree(state: dict[str, Any]) -> list[dict[str, Any]] | None:
    extra = state["optimizer"].get("extra") or {}
    forest = extra.get("forest")
    if not isinstance(forest, dict) or "nodes" not in forest:
        return None
    nodes, trees = forest["nodes"], forest.get("trees", {})
    payloads = forest.get("payloads", [])
    best = extra.get("best")
    chosen = set(extra.get("beam", []))
    out = []
    for b in range(int(forest.get("batch", 1))):
        count = int(trees.get("num_nodes", [0] * (b + 1))[b])
        texts = {int(i): p for i, p in (payloads[b] if b < len(payloads) else [])}
        for i in range(count):
            visits = int(nodes["visits"][b][i])
            payload = texts.get(i) or {}
            prompt = payload.get("prompt") if isinstance(payload, dict) else payload
            entry = {"tree": b, "node": i, "parent": int(nodes["parent"][b][i]),
                     "depth": int(nodes["depth"][b][i]), "visits": visits,
                     "value": round(float(nodes["value_sum"][b][i]) / visits, 6) if visits else None,
                     "reward": round(float(nodes["reward"][b][i]), 6), "prompt": prompt}
            if best and prompt == best[1]:
                entry["best"] = True
            if i in chosen:
                entry["in_beam"] = True
            out.append(entry)
    return out


def describe_run(folder: str | Path) -> dict[str, Any]:
    """Everything a run learned, as JSON data (see the module docstring)."""
    folder = Path(folder)
    path = folder / CHECKPOINT
    if not path.is_file():
        raise BenchError(f"{folder} is not a run folder (no {CHECKPOINT}); pass DIR/runs/<run id> or a "
                         "bench folder (one with config.json)")
    state = read_json(path)
    task, optimizer, seed = state.get("task"), state.get("optimizer_name"), state.get("seed")
    if task is None:  # older checkpoints: the id is task__optimizer__sSEED
        parts = str(state.get("run_id", folder.name)).split("__")
        if len(parts) == 3:
            task, optimizer, seed = parts[0], parts[1], int(parts[2].lstrip("s") or 0)
    llm = state.get("llm") or next((r.get("llm") for r in state.get("records", [])), "none")
    tests = [r for r in state.get("records", []) if r.get("split") == "test"]
    return {
        "run_id": state.get("run_id", folder.name), "task": task, "optimizer": optimizer, "seed": seed,
        "llm": llm, "tag": f"llm={llm}", "status": state.get("status"), "step": state.get("step"),
        "steps_planned": state.get("steps"), "stopped": state.get("stopped", ""),
        "error": state.get("error", ""),
        "test_score": tests[-1]["score"] if tests else None,
        "parameters": _parameters(state), "proposals": _proposals(state), "steps": _steps(state),
        "tree": _tree(state),
    }


def describe(path: str | Path, run: str | None = None) -> dict[str, Any]:
    """A run folder, or a bench folder (all its runs, or the one named `run`)."""
    path = Path(path)
    if (path / CHECKPOINT).is_file():
        return describe_run(path)
    if not (path / CONFIG_FILE).is_file():
        raise BenchError(f"{path} holds neither a bench run (config.json) nor one run (checkpoint.json); "
                         "pass the --out folder of `undertow bench run` or one of its runs/<run id>")
    config = load_config(path)
    ids = [r.run_id for r in config.runs]
    if run is not None:
        if run not in ids:
            raise BenchError(f"no run {run!r} in {path}; its runs are: {', '.join(ids)}")
        return describe_run(run_dir(path, run))
    runs = [describe_run(run_dir(path, i)) for i in ids if (run_dir(path, i) / CHECKPOINT).is_file()]
    return {"out": str(path), "llm": config.llm, "tag": f"llm={config.llm}", "runs": runs}
