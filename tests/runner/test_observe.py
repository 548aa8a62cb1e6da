"""Logging, callbacks, live progress, SIGINT, file modes, list --json, --config, --dry-run."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest
from rich.console import Console
from typer.testing import CliRunner
from undertow.bench.bench_cli import bench_app
from undertow.bench.cli import app
from undertow.bench.registry import OPTIMIZERS, TASKS
from undertow.bench.runner import load_config, make_config, start
from undertow.bench.runner.executor import InlineExecutor
from undertow.engine import Callback

from .conftest import SMALL

runner = CliRunner()
TINY = ["--n-train", "6", "--n-val", "4", "--n-test", "4", "--batch-size", "2"]


class Recorder(Callback):
    """Keeps every event, in order."""

    def __init__(self, pause: float = 0.0) -> None:
        self.events: list[tuple[str, object]] = []
        self.pause = pause

    def on_run_start(self, run): self.events.append(("run_start", run))
    def on_run_end(self, run): self.events.append(("run_end", run))
    def on_step_start(self, step): self.events.append(("step_start", step))
    def on_proposal(self, proposal): self.events.append(("proposal", proposal))
    def on_llm_call(self, call): self.events.append(("llm", call))
    def on_error(self, error, where): self.events.append(("error", (error, where)))

    def on_step(self, step):
        self.events.append(("step", step))
        time.sleep(self.pause)  # give the progress watcher time to draw this step


def test_callbacks_see_runs_steps_proposals_and_calls_and_progress_is_live(tmp_path):
    rec = Recorder(pause=0.7)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=150)
    config = make_config(["word_sorting"], ["textgrad"], seeds=1, budget="calls=500", steps=3, **SMALL)
    outcome = start(config, tmp_path / "c", console=console, executor=InlineExecutor(), callbacks=[rec])
    assert outcome.failed == {}
    kinds = [k for k, _ in rec.events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end" and rec.events[-1][1].status == "done"
    assert [e.step for k, e in rec.events if k == "step"] == [1, 2, 3]
    assert [e.step for k, e in rec.events if k == "step_start"] == [1, 2, 3]
    steps = [e for k, e in rec.events if k == "step"]
    assert steps[-1].calls >= steps[0].calls > 0 and all(0 <= s.score <= 1 for s in steps)
    assert kinds.count("proposal") >= 3 and kinds.count("llm") > steps[-1].calls
    # the inline executor runs the job inside submit(): the bar must move while it runs,
    # not jump from 0 to the end
    text = buf.getvalue()
    assert "1/3" in text and "2/3" in text and "3/3" in text


def test_a_raising_callback_is_logged_and_ignored(tmp_path, quiet, caplog):
    class Broken(Callback):
        def on_step(self, step):
            raise RuntimeError("observer bug")

    config = make_config(["word_sorting"], ["none"], seeds=1, budget="calls=50", steps=2, **SMALL)
    with caplog.at_level("WARNING", logger="undertow.callbacks"):
        outcome = start(config, tmp_path / "b", console=quiet, executor=InlineExecutor(), callbacks=[Broken()])
    assert outcome.failed == {} and "Broken.on_step raised" in caplog.text


def test_log_level_sends_undertow_records_to_stderr(tmp_path):
    result = runner.invoke(app, ["--log-level", "debug", "bench", "run", "-t", "word_sorting", "-o", "textgrad",
                                 "--steps", "1", "--out", str(tmp_path / "l"), *TINY])
    assert result.exit_code == 0, result.output
    assert "INFO undertow.bench.runner: run word_sorting__textgrad__s0 starts" in result.stderr
    assert "DEBUG undertow.engine.llm: llm sim:sim" in result.stderr
    assert "DEBUG undertow.optimizers: TextGrad" in result.stderr
    quiet_run = runner.invoke(app, ["bench", "run", "-t", "word_sorting", "-o", "none", "--steps", "1",
                                    "--out", str(tmp_path / "q"), *TINY])
    assert quiet_run.exit_code == 0 and "undertow.bench.runner" not in quiet_run.stderr
    bad = runner.invoke(app, ["--log-level", "loud", "bench", "list"])
    assert bad.exit_code == 2 and "unknown log level 'loud'" in bad.output


@pytest.mark.parametrize("workers, again", [(1, False), (2, False), (1, True), (2, True)])
def test_sigint_stops_cleanly_with_a_message(tmp_path, workers, again):
    """One Ctrl-C, or (`again`) a burst of them while the runner stops: each time the
    message says how to resume, and every checkpoint is whole."""
    out = tmp_path / f"w{workers}"
    cmd = [sys.executable, "-m", "undertow.bench.runner", "run", "-t", "word_sorting", "-o", "textgrad,optoprime",
           "--seeds", "2", "--steps", "200", "--budget", "calls=100000", "--workers", str(workers),
           "--out", str(out), *TINY]
    # a test run started in the background by a shell (`pytest ... &`) inherits SIGINT as
    # ignored, and so would the CLI: give it the default disposition a terminal gives it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "runs").glob("*/checkpoint.json")):
        time.sleep(0.05)
    time.sleep(0.5)
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr))
    reader.start()
    proc.send_signal(signal.SIGINT)  # to the CLI process only, like `timeout -s INT`
    # more while it stops (until its message is out), as a user pressing Ctrl-C again
    while again and proc.poll() is None and not any("interrupted:" in x for x in stderr_lines):
        time.sleep(0.005)
        try:
            proc.send_signal(signal.SIGINT)
        except ProcessLookupError:
            break
    stdout = proc.stdout.read()
    proc.wait(timeout=60)
    reader.join(60)
    stderr = "".join(stderr_lines)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted:" in stderr and f"undertow bench resume {out}" in stderr
    assert "Traceback" not in stderr
    assert not (out / "results.jsonl").exists()
    for ck in (out / "runs").glob("*/checkpoint.json"):
        json.loads(ck.read_text())  # every checkpoint is whole


@pytest.mark.skipif(signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="this test process does not have Python's default SIGINT handler")
@pytest.mark.parametrize("owns_process", [False, True])
def test_interrupt_once_ignores_the_second_ctrl_c_and_restores_in_process(monkeypatch, owns_process):
    from undertow.bench import interrupts

    monkeypatch.setattr(interrupts, "OWNS_PROCESS", owns_process)
    first = False
    try:
        with interrupts.interrupt_once():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)  # interrupted long before
            except KeyboardInterrupt:
                first = True
            try:
                os.kill(os.getpid(), signal.SIGINT)  # ignored: the stop goes on
                time.sleep(0.05)
            except KeyboardInterrupt:
                pytest.fail("a second SIGINT interrupted the stop")
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert first
    # in-process (a notebook, CliRunner) Ctrl-C works again; a CLI process keeps ignoring it
    assert after is (signal.SIG_IGN if owns_process else signal.default_int_handler)


def test_an_interrupted_demo_says_how_to_finish_it(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "undertow", "demo", "--out", str(out), "--steps", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "runs").glob("*/checkpoint.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (stdout, stderr)
    assert f"undertow bench resume {out}`, then `undertow bench report {out}`" in stderr
    assert "error:" not in stderr and "Traceback" not in stderr


def test_tables_piped_to_a_file_keep_whole_names():
    """Piped or logged, output is laid out wide enough that no task name is cut."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run([sys.executable, "-m", "undertow", "bench", "list"], capture_output=True,
                          text=True, env=env, check=True)
    cut = [t for t in TASKS if t not in proc.stdout]
    assert not cut, f"task names cut in piped output: {cut}"


def test_files_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        result = runner.invoke(bench_app, ["run", "-t", "word_sorting", "-o", "none", "--steps", "1",
                                           "--out", str(tmp_path / "u"), *TINY])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    files = [p for p in (tmp_path / "u").rglob("*") if p.is_file() and "cache" not in p.parts]
    assert len(files) >= 4
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}


def test_list_json_names_every_task_and_optimizer():
    result = runner.invoke(bench_app, ["list", "--json"])
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tasks"]] == list(TASKS)
    assert [o["name"] for o in data["optimizers"]] == list(OPTIMIZERS)
    ws = next(t for t in data["tasks"] if t["name"] == "word_sorting")
    assert "textgrad" in ws["optimizers"] and "adam" not in ws["optimizers"] and ws["uses_llm"]


def test_config_file_sets_every_option_and_the_command_line_wins(tmp_path):
    out = tmp_path / "from-file"
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(f'task = ["word_sorting", "numeric_dag"]\noptimizer = "none,adam"\nllm = "sim"\nseeds = 2\n'
                   f'budget = "calls=30"\nsteps = 3\nworkers = 1\nout = "{out}"\nn-train = 7\nn_val = 5\n'
                   f'n_test = 3\nbatch_size = 2\n')
    result = runner.invoke(bench_app, ["run", "--config", str(cfg), "--steps", "2"])
    assert result.exit_code == 0, result.output
    config = load_config(out)
    assert config.steps == 2  # the command line wins
    assert (config.llm, config.budget, config.workers) == ("sim", "calls=30", 1)
    assert (config.n_train, config.n_val, config.n_test, config.batch_size) == (7, 5, 3, 2)
    assert sorted({(r.task, r.optimizer) for r in config.runs}) == [
        ("numeric_dag", "adam"), ("numeric_dag", "none"), ("word_sorting", "none")]
    assert {r.seed for r in config.runs} == {0, 1}
    bad = tmp_path / "bad.toml"
    bad.write_text("stepz = 3\n")
    err = runner.invoke(bench_app, ["run", "--config", str(bad)])
    assert err.exit_code == 2 and "unknown key 'stepz'" in err.stderr and "steps" in err.stderr
    bad.write_text("steps = 0\n")
    err = runner.invoke(bench_app, ["run", "--config", str(bad)])
    assert err.exit_code == 2 and "'steps'" in err.stderr
    err = runner.invoke(bench_app, ["run", "--config", str(tmp_path / "none.toml")])
    assert err.exit_code == 2 and "does not exist" in err.stderr


def test_dry_run_estimates_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["run", "-t", "word_sorting,numeric_dag", "-o", "textgrad,mcts,adam", "--seeds", "2", "--steps", "4",
            "--budget", "calls=50", "--llm", "openai:gpt-4o-mini", "--dry-run", "--json", *TINY]
    result = runner.invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(tmp_path.iterdir()) == []  # nothing written, no key needed
    runs = {r["run_id"]: r for r in data["runs"]}
    assert len(runs) == 4 * 2 and data["tag"] == "llm=openai:gpt-4o-mini"  # 4 compatible pairs x 2 seeds
    assert runs["numeric_dag__adam__s0"]["calls"] == 0 and runs["numeric_dag__adam__s0"]["usd"] == 0.0
    mcts = runs["word_sorting__mcts__s0"]
    assert mcts["calls"] == 50 and mcts["capped_by"] == "calls"  # the budget binds
    assert mcts["eval_calls"] == 4 * 5 + 4 and mcts["usd"] > 0
    assert data["total"]["calls"] == sum(r["calls"] for r in data["runs"])
    text_args = [a for a in args if a != "--json"] + ["--llm", "openai:some-new-model"]
    unknown = runner.invoke(bench_app, text_args, terminal_width=200)
    assert unknown.exit_code == 0 and "unknown price" in unknown.stdout
