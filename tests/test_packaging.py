"""The package installs as `undertow.*` from a real wheel, and the CLI entry points work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from undertow import __version__
from undertow.bench.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_the_undertow_namespace_in_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("undertow-*.whl")
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"undertow/py.typed", "undertow/interop/__init__.py", "undertow/interop/dspy.py"} <= names
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    fresh_py = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(fresh_py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # Install the wheel itself; borrow third-party dependencies from this environment
    # through a path entry (its .pth files, such as our editable hook, are not run).
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(site), str(wheel)], check=True, capture_output=True, timeout=300)
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = (
        "import importlib.util, json, undertow, undertow.engine, undertow.optimizers, undertow.bench, undertow.agents\n"
        "from undertow.engine import Parameter, backward\n"
        "x = Parameter(1.0, name='x'); backward(x * 2, 1.0, 'numeric')\n"
        "print(json.dumps({'file': undertow.engine.__file__, 'grad': x.grad, 'version': undertow.__version__,\n"
        "  'bare': [m for m in ('engine', 'optimizers', 'agents', 'bench') if importlib.util.find_spec(m)]}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(fresh_py), "-c", probe], check=True, capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    info = json.loads(out.stdout)
    assert info["file"].startswith(str(site)) and info["grad"] == 2.0
    assert info["version"] == __version__ and info["bare"] == []
    entry = subprocess.run([str(fresh_py), "-m", "undertow", "--version"], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=120)
    assert entry.returncode == 0 and __version__ in entry.stdout


def test_cli_help_and_version():
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "perf" in result.output and "demo" in result.output
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"undertow {__version__}"


def test_python_dash_m_undertow():
    out = subprocess.run([sys.executable, "-m", "undertow", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and __version__ in out.stdout


def test_perf_engine_prints_one_json_object():
    result = CliRunner().invoke(app, ["perf", "engine", "--quick"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["traced_op_us"] > 0 and data["plain_call_us"] > 0
    assert set(data["backward_s"]) == {"1000", "10000"}
    for key in ("backward_fanin_s", "backward_dag_s"):
        assert set(data[key]) == {"300", "3000", "linearity"} and data[key]["linearity"] > 0
    assert "trace_opt" in data


def test_demo_runs_offline_and_writes_a_report(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--seeds", "1", "--steps", "2"])
    assert result.exit_code == 0, result.output
    assert "llm=sim" in result.output and "Leaderboard" in result.output
    report = (out / "report" / "report.md").read_text()
    assert "optoprime" in report and "llm=sim" in report
    again = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert again.exit_code == 2 and "error:" in again.output


def test_importing_the_engine_does_not_import_the_other_layers():
    code = ("import sys, undertow.engine; "
            "print([m for m in ('undertow.optimizers', 'undertow.bench', 'undertow.agents', 'openai', 'anthropic') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_help_loads_no_optimizer_and_sub_apps_load_on_use():
    """`undertow --help` lists every sub-app without importing them (start-up cost);
    invoking one loads it. Run in a fresh interpreter: this process imported them all."""
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from undertow.bench.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert all(n in r.output for n in ('bench', 'experience', 'perf', 'demo')), r.output\n"
        "heavy = [m for m in ('undertow.optimizers', 'undertow.engine', 'numpy', 'importlib.metadata')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "r = CliRunner().invoke(app, ['experience', '--help'])\n"
        "assert r.exit_code == 0 and 'list' in r.output, r.output\n"
        "assert 'undertow.optimizers.experience.cli' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120)


def test_ci_runs_the_readmes_test_command_exactly():
    """The README's test command is what CI runs (its last command, verbatim)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    (command,) = [b.strip() for b in blocks if "pytest" in b]
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert ci[-1].strip() == command


def test_perf_bench_backward_part_prints_the_fanin_figures():
    result = CliRunner().invoke(app, ["perf", "bench", "--quick", "--part", "backward"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["llm"] == "sim"
    fanin = data["backward_fanin"]
    assert fanin["300"] > 0 and fanin["3000"] > 0
    assert fanin["linearity"] == pytest.approx(fanin["3000"] / fanin["300"], rel=0.02)  # from rounded times
