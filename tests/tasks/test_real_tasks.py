"""The real BBH and GSM8K as bench tasks: listing, the data folder and its errors, seeded
splits, the simulator's coverage, and a small run. Tests that read files use the copies
in ../shared/data (relative to the repository root) and skip without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from undertow.bench.registry import TASKS, pairs
from undertow.bench.runner import BenchError
from undertow.bench.runner.real import (
    DATA_ENV,
    REAL_TASKS,
    SIM_SERVED,
    bbh_score,
    check_data,
    real_splits,
)
from undertow.bench.runner.runner import make_config, start
from undertow.bench.runner.tasks import SplitSizes
from undertow.bench.tasks.loaders import BBH_TASKS

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "bbh").is_dir() or not (DATA / "gsm8k").is_dir(),
                                reason="../shared/data (BBH and GSM8K copies) is not here")


def test_all_real_tasks_are_registered():
    assert len(BBH_TASKS) == 27
    assert {f"bbh:{t}" for t in BBH_TASKS} | {"gsm8k"} == set(REAL_TASKS) <= set(TASKS)
    assert "needs a real model" in TASKS["gsm8k"].description
    assert "llm=sim answers it" in TASKS["bbh:navigate"].description
    assert "needs a real model" in TASKS["bbh:snarks"].description
    assert ("bbh:word_sorting", "gepa") in pairs(["bbh:word_sorting"], ["gepa"])


def test_missing_data_folder_and_files_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    with pytest.raises(BenchError, match=r"--data-dir DIR or set UNDERTOW_DATA_DIR"):
        check_data("bbh:snarks")
    with pytest.raises(BenchError, match=r"bbh/snarks\.json, which does not exist"):
        check_data("bbh:snarks", tmp_path)
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(BenchError, match=r"gsm8k/test\.jsonl.*gsm8k/train\.jsonl"):
        check_data("gsm8k")
    with pytest.raises(BenchError, match="does not exist"):
        make_config(["bbh:word_sorting"], ["none"], llm="sim")


def test_task_all_means_the_tasks_that_can_run_here(tmp_path, monkeypatch):
    """`--task all` (the default) without a data folder is the bundled tasks, so that it
    runs and dry-runs as documented; with one, the real-data tasks join (on the sim only
    those it answers)."""
    from typer.testing import CliRunner
    from undertow.bench.bench_cli import bench_app
    from undertow.bench.runner.real import all_tasks

    monkeypatch.delenv(DATA_ENV, raising=False)
    bundled = [t for t in TASKS if t not in REAL_TASKS]
    assert all_tasks(TASKS, "sim") == bundled and bundled
    served = [f"bbh:{t}" for t in SIM_SERVED]
    on_sim = [t for t in TASKS if t not in REAL_TASKS or t in served]
    assert all_tasks(TASKS, "sim", tmp_path) == on_sim and len(on_sim) == len(bundled) + len(served)
    assert all_tasks(TASKS, "openai:gpt-4o-mini", tmp_path) == list(TASKS)
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert all_tasks(TASKS, "sim") == on_sim
    monkeypatch.delenv(DATA_ENV)
    result = CliRunner().invoke(bench_app, ["run", "--dry-run", "-o", "none", "--json", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert f"--task all leaves out {len(REAL_TASKS)} real-data tasks (they need --data-dir" in result.output


def test_bbh_score_reads_the_final_answer():
    assert bbh_score("Let's think.\nSo the answer is (B).", "(B)") == 1.0
    assert bbh_score("Answer: B", "(B)") == 1.0
    assert bbh_score("the answer is (C)", "(B)") == 0.0
    assert bbh_score("So the answer is Yes.", "Yes") == 1.0
    assert bbh_score("no", "Yes") == 0.0


@needs_data
def test_seeded_splits_are_disjoint_and_reproducible():
    sizes = SplitSizes(10, 5, 20)
    a = real_splits("bbh:boolean_expressions", 0, sizes, DATA)
    assert (len(a.train), len(a.val), len(a.test)) == (10, 5, 20)
    inputs = [e.input for e in a.train + a.val + a.test]
    assert len(set(inputs)) == len(inputs)
    assert real_splits("bbh:boolean_expressions", 0, sizes, DATA) == a
    assert real_splits("bbh:boolean_expressions", 1, sizes, DATA).train != a.train
    g = real_splits("gsm8k", 0, sizes, DATA)
    assert all(e.meta["split"] == "train" for e in g.train) and all(e.meta["split"] == "test" for e in g.test)
    assert {e.input for e in g.val}.isdisjoint(e.input for e in g.test)


@needs_data
def test_the_sim_serves_exactly_the_profiled_bbh_tasks():
    from undertow.bench.sim.items import last_item
    from undertow.bench.tasks.loaders import load_bbh
    from undertow.bench.tasks.profiles import all_profiles

    profiles = all_profiles()
    for task in BBH_TASKS:
        found = [last_item(e.input, profiles) for e in load_bbh(task, path=DATA / "bbh")[:10]]
        names = {f[0].name for f in found if f}
        if task in SIM_SERVED:
            assert all(found) and names == {SIM_SERVED[task]}, task
        else:
            assert not any(found), task
    with pytest.raises(BenchError, match="needs a real model"):
        make_config(["gsm8k"], ["none"], llm="sim", data_dir=str(DATA))
    with pytest.raises(BenchError, match="needs a real model"):
        make_config(["bbh:causal_judgement"], ["none"], llm="sim", data_dir=str(DATA))


@needs_data
def test_a_small_run_on_real_bbh_with_the_sim(tmp_path, quiet_console):
    config = make_config(["bbh:word_sorting"], ["none"], llm="sim", steps=1, data_dir=str(DATA),
                         n_train=4, n_val=4, n_test=6, batch_size=2)
    outcome = start(config, tmp_path / "r", console=quiet_console)
    assert not outcome.failed
    test = [r for r in outcome.records if r.split == "test"]
    assert len(test) == 1 and 0.0 <= test[0].score <= 1.0 and test[0].llm == "sim"


@pytest.fixture
def quiet_console():
    import io

    from rich.console import Console
    return Console(file=io.StringIO(), width=120)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.text(max_size=200), st.text(min_size=1, max_size=20))
def test_bbh_score_is_total_and_binary(prediction, target):
    assert bbh_score(prediction, target) in (0.0, 1.0)


@given(st.sampled_from("ABCDEFG"), st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=40))
def test_bbh_score_accepts_the_final_choice_after_any_reasoning(letter, reasoning):
    assert bbh_score(f"{reasoning}\nSo the answer is ({letter}).", f"({letter})") == 1.0
