"""`undertow bench` through typer's CliRunner: a small run, resume, report, list, and
every user error as one line with a non-zero exit status."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner
from undertow.bench.bench_cli import bench_app
from undertow.bench.runner import collect

runner = CliRunner()
SMALL = ["--n-train", "6", "--n-val", "4", "--n-test", "4", "--batch-size", "2"]


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert len(text.splitlines()) == 1 and "Traceback" not in result.output, text
    assert text.startswith("error: ")
    for needle in needles:
        assert needle in text, text


def test_run_resume_report_list(tmp_path):
    out = tmp_path / "r"
    result = runner.invoke(bench_app, ["run", "--task", "word_sorting", "-o", "none", "--seeds", "2",
                                       "--steps", "2", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert "Leaderboard" in result.stdout and "llm=sim" in result.stdout
    assert len(collect(out)) == 2 * 4
    again = runner.invoke(bench_app, ["resume", str(out)])
    assert again.exit_code == 0 and "0 to do" in again.stdout
    report = runner.invoke(bench_app, ["report", str(out)])
    assert report.exit_code == 0, report.output
    assert (out / "report" / "report.md").is_file() and (out / "report" / "report.html").is_file()
    listing = runner.invoke(bench_app, ["list"], terminal_width=200)
    assert listing.exit_code == 0
    for name in ("numeric_dag", "word_sorting", "adam", "sgd", "none"):
        assert name in listing.stdout


@pytest.mark.parametrize(("args", "needles"), [
    (["--task", "word_sortng"], ("unknown task 'word_sortng'", "did you mean word_sorting")),
    (["--task", "word_sorting", "--optimizer", "adm"], ("unknown optimizer 'adm'", "did you mean adam")),
    (["--task", "word_sorting", "--llm", "gpt4"], ("bad LLM spec 'gpt4'",)),
    (["--task", "word_sorting", "--llm", "claude:x"], ("unknown provider 'claude'",)),
    (["--task", "word_sorting", "--budget", "calls=0"], ("budget of zero",)),
    (["--task", "word_sorting", "--budget", "usd=0"], ("budget of zero",)),
    (["--task", "word_sorting", "--budget", "minutes=3"], ("bad budget part",)),
    (["--task", "word_sorting", "--optimizer", "adam"], ("no optimizer given can train",)),
    (["--task", "word_sorting", "--seeds", "0"], ("--seeds must be at least 1",)),
    (["--task", "word_sorting", "--llm", "sim:foo"], ("bad LLM spec 'sim:foo'", "write just 'sim'")),
])
def test_user_errors_are_one_line(tmp_path, args, needles):
    result = runner.invoke(bench_app, ["run", *args, "--out", str(tmp_path / "r"), *SMALL])
    _one_line_error(result, *needles)
    assert not (tmp_path / "r" / "config.json").exists()


def test_missing_api_key_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(bench_app, ["run", "--task", "word_sorting", "--llm", "openai:gpt-4o-mini",
                                       "--out", str(tmp_path / "r")])
    _one_line_error(result, "missing API key", "OPENAI_API_KEY")


def test_unwritable_output_directory_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(bench_app, ["run", "--task", "numeric_dag", "--out", str(blocker / "r")])
    _one_line_error(result, "cannot write to output directory", "pick a writable --out")


def test_an_existing_run_is_not_overwritten(tmp_path):
    out = str(tmp_path / "r")
    first = runner.invoke(bench_app, ["run", "-t", "numeric_dag", "-o", "adam", "--steps", "1", "--out", out])
    assert first.exit_code == 0, first.output
    second = runner.invoke(bench_app, ["run", "-t", "numeric_dag", "-o", "adam", "--out", out])
    _one_line_error(second, "already holds a finished bench run", f"undertow bench report {out}")
    (tmp_path / "r" / "results.jsonl").unlink()  # as if stopped before the end
    third = runner.invoke(bench_app, ["run", "-t", "numeric_dag", "-o", "adam", "--out", out])
    _one_line_error(third, "already holds a bench run", f"undertow bench resume {out}")


def test_resume_and_report_of_a_folder_without_a_run(tmp_path):
    _one_line_error(runner.invoke(bench_app, ["resume", str(tmp_path)]), "holds no bench run")
    _one_line_error(runner.invoke(bench_app, ["report", str(tmp_path)]), "holds no bench run")


def test_tpe_without_optuna_is_hidden_and_names_the_extra(tmp_path, monkeypatch):
    from undertow.bench import registry

    monkeypatch.delitem(registry.OPTIMIZERS, "tpe", raising=False)
    listing = runner.invoke(bench_app, ["list"], terminal_width=200)
    assert listing.exit_code == 0 and "tpe" not in listing.stdout
    result = runner.invoke(bench_app, ["run", "--task", "traffic", "--optimizer", "tpe",
                                       "--out", str(tmp_path / "r"), *SMALL])
    _one_line_error(result, "needs Optuna", "pip install 'undertow[tpe]'")


def test_a_failed_runs_message_keeps_its_brackets(tmp_path, monkeypatch):
    """Rich markup must not eat "[tpe]" from the error of a failed run."""
    from rich.console import Console
    from undertow.bench import registry
    from undertow.bench.runner import make_config, start

    def broken(params, llm, task, agent):
        raise RuntimeError("needs Optuna: pip install 'undertow[tpe]'")

    monkeypatch.setitem(registry.OPTIMIZERS, "broken", registry.OptimizerEntry(
        name="broken", description="fails", kinds=registry.ALL_KINDS, uses_llm=False,
        factory=broken))
    console = Console(record=True, width=300)
    config = make_config(["word_sorting"], ["broken"], llm="sim", seeds=1, steps=1, workers=1,
                         n_train=4, n_val=2, n_test=2, batch_size=2)
    outcome = start(config, tmp_path / "r", console=console)
    assert outcome.failed
    assert "pip install 'undertow[tpe]'" in console.export_text()
