"""Probes run in fresh interpreters by `undertow perf crossover`: the first PromptMCTS
step on a 4 x 1,000 forest (what a new user waits for), and the one-off cost of
Numba's kernels with an empty or a filled on-disk cache.

`python -m undertow.bench.perf.first_step mcts|numba` prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def first_mcts_step(num_trees: int = 4, capacity: int = 1000) -> dict[str, Any]:
    """Seconds from building PromptMCTS (simulated LLM, boolean expressions) to the end
    of its first step, and the backend chosen for the forest's size."""
    start = time.perf_counter()
    from undertow.bench.tasks.reasoning import get_task, make_splits
    from undertow.engine import Parameter
    from undertow.engine.llm import make_llm
    from undertow.optimizers.search import PromptMCTS

    imported = time.perf_counter() - start
    task = get_task("boolean_expressions")
    splits = make_splits("boolean_expressions", seed=0, n_train=16, n_val=8, n_test=8)
    prompt = Parameter("Evaluate the boolean expression.", kind="text", name="system_prompt")
    start = time.perf_counter()
    opt = PromptMCTS([prompt], llm=make_llm("sim", cache_dir=False), train=splits.train,
                     val=splits.val, score=task.score, num_trees=num_trees, capacity=capacity)
    opt.step()
    return {"llm": "sim", "num_trees": num_trees, "capacity": capacity,
            "backend": opt.forest.backend.name, "import_s": round(imported, 3),
            "first_step_s": round(time.perf_counter() - start, 3),
            "tree_s": round(opt.forest.tree_seconds, 4)}


def numba_first_cycle() -> dict[str, Any]:
    """Seconds for the first search cycle on the Numba backend (compile or cache load)."""
    import numpy as np

    from undertow.optimizers.search.forest import Forest

    start = time.perf_counter()
    f = Forest(4, 1000, backend="numba")
    f.expand(np.zeros(4, dtype=np.int32), 3)
    f.backup(f.descend("uct", 1), np.zeros((4, 1)))
    f.score("uct", 1)
    return {"backend": "numba", "first_cycle_s": round(time.perf_counter() - start, 3)}


if __name__ == "__main__":
    probe = {"mcts": first_mcts_step, "numba": numba_first_cycle}[sys.argv[1]]
    print(json.dumps(probe()))
