"""PromptMCTS end to end on the simulated LLM (llm=sim)."""

from __future__ import annotations

import json

import numpy as np

import pytest
from undertow.optimizers.search import PromptMCTS, mcts_time_share

from .helpers import heldout_score, prompt_param, sim, task_setup


def _run(steps: int, **kw):
    task, splits = task_setup()
    p = prompt_param()
    opt = PromptMCTS([p], llm=sim(), train=splits.train, val=splits.val, score=task.score,
                     seed=kw.pop("seed", 0), **kw)
    for _ in range(steps):
        opt.step()
    return task, splits, p, opt


@pytest.mark.parametrize("seed", [0, 1])
def test_improves_test_score_over_initial_prompt(seed: int) -> None:
    task, splits, p, opt = _run(4, num_trees=2, seed=seed)
    llm = sim()
    before = heldout_score(llm, "Answer the question.", splits.test, task.score)
    after = heldout_score(llm, p.value, splits.test, task.score)
    assert after >= before + 0.25, (before, after, p.value)
    assert opt.log and all(x.accepted for x in opt.log)
    # The answer is the best node on the best path, with its recorded val score.
    best = opt.best_on_best_path()
    assert best.prompt == p.value and best.score == opt.log[-1].meta["val_score"]


def test_store_invariants_after_search() -> None:
    _, _, _, opt = _run(3, num_trees=3, paths=3, k=2)
    f = opt.forest
    assert int(f.host("inflight").sum()) == 0          # every descent was backed up
    nodes = f.host("num_nodes")
    for b in range(f.batch):
        for n in range(int(nodes[b])):
            assert (b, n) in f.payloads                  # every node has a prompt
            assert f.payloads[b, n].depth == int(f.host("depth", b)[n])
        assert int(f.host("depth", b)[: nodes[b]].max()) <= opt.depth_limit


def test_resume_gives_the_same_search() -> None:
    task, splits, p, opt = _run(2, num_trees=2)
    saved = json.loads(json.dumps(opt.state_dict()))    # plain JSON round trip
    for _ in range(2):
        opt.step()
    q = prompt_param()
    again = PromptMCTS([q], llm=sim(), train=splits.train, val=splits.val, score=task.score,
                       num_trees=2, backend="numpy")
    again.load_state_dict(saved)
    for _ in range(2):
        again.step()
    assert q.value == p.value
    assert again.state_dict()["extra"]["val_cache"] == opt.state_dict()["extra"]["val_cache"]
    # the cached UCT parent term is not saved; loading rebuilt it to the same values
    assert "parent_sqrt_log" not in saved["extra"]["forest"]["nodes"]
    np.testing.assert_array_equal(again.forest.host("parent_sqrt_log"),
                                  opt.forest.host("parent_sqrt_log"))


def test_early_stop_on_target_score() -> None:
    _, _, _, opt = _run(8, target_score=0.8)
    assert opt.done and opt.best_on_best_path().score >= 0.8
    assert opt.iterations < 8


def test_bad_arguments_are_named() -> None:
    task, splits = task_setup()
    with pytest.raises(ValueError, match="text Parameter"):
        from undertow.engine import Parameter
        PromptMCTS([Parameter(1.0)], llm=sim(), train=splits.train, val=splits.val,
                   score=task.score)
    with pytest.raises(ValueError, match="k must be"):
        PromptMCTS([prompt_param()], llm=sim(), train=splits.train, val=splits.val,
                   score=task.score, k=0)
    with pytest.raises(TypeError, match=r"train\[0\]"):
        PromptMCTS([prompt_param()], llm=sim(), train=[3], val=splits.val, score=task.score)


def test_time_share_is_reported_for_the_sim() -> None:
    task, splits = task_setup()
    out = mcts_time_share(splits.train, splits.val, task.score, iterations=3, num_trees=2)
    assert out["llm"] == "sim" and out["iterations"] == 3
    assert 0.0 < out["tree_share"] < 1.0 and out["tree_s"] < out["wall_s"]
    assert out["best_val"] >= out["initial_val"]
