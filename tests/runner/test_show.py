"""`undertow bench show`: what a run learned, read back from its folder (llm=sim)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner
from undertow.bench.bench_cli import bench_app
from undertow.bench.runner import make_config, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.show import value_diff

from .conftest import SMALL

runner = CliRunner()


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    import io

    from rich.console import Console

    out = tmp_path_factory.mktemp("show") / "b"
    config = make_config(["word_sorting"], ["textgrad", "mcts"], seeds=1, budget="calls=80", steps=3, **SMALL)
    start(config, out, console=Console(file=io.StringIO()))
    return out


def _show(*args: str) -> dict:
    result = runner.invoke(bench_app, ["show", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("optimizer", ["textgrad", "mcts"])
def test_show_json_has_initial_final_values_and_every_proposal(bench, optimizer):
    folder = bench / "runs" / f"word_sorting__{optimizer}__s0"
    d = _show(str(folder))
    state = read_json(folder / "checkpoint.json")
    assert d["tag"] == "llm=sim" and d["status"] == "done"
    (p,) = d["parameters"]
    assert p["name"] == "system_prompt" and p["kind"] == "text"
    assert p["initial"] == "Answer the question."  # the task's starting prompt
    assert p["final"] == state["optimizer"]["parameters"]["system_prompt"]
    assert p["changed"] and p["diff"].startswith("--- system_prompt (initial)")
    log = state["optimizer"]["log"]
    assert len(d["proposals"]) == len(log) > 0
    assert [q["value"] for q in d["proposals"]] == [e["new"] for e in log]
    for q in d["proposals"]:
        assert 1 <= q["step"] <= d["step"] and isinstance(q["accepted"], bool) and q["score"] is not None
        assert q["step_tokens"] is None or q["step_tokens"] > 0
    accepted = [q["value"] for q in d["proposals"] if q["accepted"]]
    assert accepted[-1] == p["final"]
    vals = [s for s in d["steps"] if s["split"] == "val"]
    assert [s["step"] for s in vals] == list(range(d["step"] + 1))
    if optimizer == "mcts":  # the whole tree, not only the chosen path
        forest = state["optimizer"]["extra"]["forest"]
        assert len(d["tree"]) == forest["trees"]["num_nodes"][0] > d["step"]
        assert d["tree"][0]["parent"] == -1 and all(n["prompt"] for n in d["tree"])
        assert any(n.get("best") and n["prompt"] == p["final"] for n in d["tree"])
    else:
        assert d["tree"] is None


def test_show_bench_folder_text_and_errors(bench, tmp_path):
    both = _show(str(bench))
    assert [r["optimizer"] for r in both["runs"]] == ["textgrad", "mcts"]
    one = _show(str(bench), "--run", "word_sorting__mcts__s0")
    assert one["optimizer"] == "mcts"
    text = runner.invoke(bench_app, ["show", str(bench / "runs" / "word_sorting__mcts__s0")], terminal_width=120)
    assert text.exit_code == 0 and "search tree" in text.stdout and "final value" in text.stdout
    bad = runner.invoke(bench_app, ["show", str(tmp_path)])
    assert bad.exit_code == 2 and "neither a bench run" in bad.stderr
    missing = runner.invoke(bench_app, ["show", str(bench), "--run", "nope"])
    assert missing.exit_code == 2 and "word_sorting__mcts__s0" in missing.stderr


@given(st.text(), st.text())
def test_value_diff_shows_every_final_line_in_order(a, b):
    diff = value_diff(a, b)
    assert (diff == "") == (a == b)
    if diff:
        body = [ln for ln in diff.splitlines()[2:] if not ln.startswith("@@")]
        kept = [ln[1:] for ln in body if ln[:1] in (" ", "+")]
        assert all(line in kept for line in b.splitlines())
