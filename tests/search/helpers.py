"""Shared set-up for the search tests: a reasoning task, its splits and the sim."""

from __future__ import annotations

from typing import Any

from undertow.bench.tasks.reasoning import get_task, make_splits
from undertow.engine import Parameter
from undertow.engine.llm import LLM, make_llm


def task_setup(name: str = "boolean_expressions", seed: int = 0, n_train: int = 30,
               n_val: int = 30, n_test: int = 60) -> tuple[Any, Any]:
    """The task module and its fixed splits."""
    return get_task(name), make_splits(name, seed, n_train, n_val, n_test)


def sim() -> LLM:
    """The simulated LLM (llm=sim), no disk cache."""
    return make_llm("sim", cache_dir=False)


def prompt_param(text: str = "Answer the question.") -> Parameter:
    return Parameter(text, kind="text", name="system_prompt")


def heldout_score(llm: LLM, prompt: str, items: list[Any], score: Any) -> float:
    """Mean score of `prompt` on held-out items (temperature 0)."""
    msgs = [[{"role": "system", "content": prompt}, {"role": "user", "content": it.input}]
            for it in items]
    replies = llm.complete_many(msgs)
    return sum(score(r.text, it.target) for r, it in zip(replies, items)) / len(items)
