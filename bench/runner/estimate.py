"""`undertow bench run --dry-run`: the planned runs and what they should cost, before any call.

Per run, the estimate is the optimizer's calls per step times the steps, capped by
the budget (whichever of calls, tokens and dollars binds first), plus the scoring
calls (`n_val` after every step and `n_test` at the end, which the budget does not
cap). Calls per step and tokens per call are nominal figures measured with the
simulated LLM on the reasoning tasks at batch size 4 (`undertow bench run
--llm sim --steps 3 --batch-size 4`), scaled linearly with the batch size: real
models write longer or shorter replies, so read them as the order of magnitude.
Dollars come from the provider's price table (`undertow.engine.llm.DEFAULT_PRICES`);
a model missing from it has an unknown price (shown as such), except local servers
and the simulator, which are free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from undertow.bench.registry import get_optimizer_entry, get_task_entry
from undertow.bench.runner.budget import parse_budget
from undertow.bench.runner.config import RunConfig
from undertow.engine.llm import Accounting, parse_spec

#: optimizer -> (LLM calls per step at batch size 4, tokens per call), llm=sim, reasoning tasks
NOMINAL: dict[str, tuple[float, float]] = {
    "none": (4, 120), "optoprime": (5, 670), "textgrad": (17, 360), "opro": (19, 255),
    "mcts": (31, 260), "beam": (140, 180),
}
DEFAULT_NOMINAL = (10, 300)  # an optimizer registered by someone else
EVAL_TOKENS = 100  # tokens of one scoring call


@dataclass(frozen=True)
class Estimate:
    """One planned run and its estimated spend (`usd` None: unknown price)."""

    run_id: str
    task: str
    optimizer: str
    seed: int
    calls: int
    tokens: int
    eval_calls: int
    eval_tokens: int
    usd: float | None
    capped_by: str


def estimate(config: RunConfig) -> list[Estimate]:
    """An `Estimate` for every run of `config` (no LLM is called, nothing is written)."""
    spec = parse_spec(config.llm)
    price = Accounting().price(spec.provider, spec.model)
    budget = parse_budget(config.budget)
    out = []
    for r in config.runs:
        task, opt = get_task_entry(r.task), get_optimizer_entry(r.optimizer)
        if not (task.uses_llm or opt.uses_llm):
            out.append(Estimate(r.run_id, r.task, r.optimizer, r.seed, 0, 0, 0, 0, 0.0, "no LLM"))
            continue
        per_step, per_call = NOMINAL.get(r.optimizer, DEFAULT_NOMINAL)
        per_step *= config.batch_size / 4
        calls, capped = per_step * config.steps, "steps"
        if budget.max_calls is not None and calls > budget.max_calls:
            calls, capped = float(budget.max_calls), "calls"
        if budget.max_tokens is not None and calls * per_call > budget.max_tokens:
            calls, capped = budget.max_tokens / per_call, "tokens"
        if budget.max_usd is not None and price is not None and sum(price) > 0:
            usd_per_call = per_call * (price[0] * 0.7 + price[1] * 0.3) / 1e6  # ~70% prompt tokens
            if calls * usd_per_call > budget.max_usd:
                calls, capped = budget.max_usd / usd_per_call, "usd"
        evals = (config.n_val * (config.steps + 1) + config.n_test) if task.uses_llm else 0
        tokens = calls * per_call
        usd = None if price is None else (
            (tokens + evals * EVAL_TOKENS) * (price[0] * 0.7 + price[1] * 0.3) / 1e6)
        out.append(Estimate(r.run_id, r.task, r.optimizer, r.seed, round(calls), round(tokens), evals,
                            evals * EVAL_TOKENS, usd, capped))
    return out


def totals(rows: list[Estimate]) -> dict[str, Any]:
    """Sums over the runs (`usd` None when any price is unknown)."""
    usd = None if any(r.usd is None for r in rows) else sum(r.usd or 0.0 for r in rows)
    return {"runs": len(rows), "calls": sum(r.calls for r in rows), "tokens": sum(r.tokens for r in rows),
            "eval_calls": sum(r.eval_calls for r in rows), "eval_tokens": sum(r.eval_tokens for r in rows),
            "usd": usd}


def as_json(config: RunConfig, rows: list[Estimate]) -> dict[str, Any]:
    return {"llm": config.llm, "tag": f"llm={config.llm}", "budget": config.budget, "steps": config.steps,
            "runs": [asdict(r) for r in rows], "total": totals(rows)}
