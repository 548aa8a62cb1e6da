"""Peers against the sim-server, requests generated at test time (skipped without the peer's venv).

Focused checks of the simulator half of issue #11 (the full conformance suite is the
peers' own): DSPy's chat format is answered with its field markers (one request per
forward call, no fallback adapter), and a stock Trace OptoPrime step on failing items
is answered from evidence. No peer prompt text is stored here: the peers write their
requests when the scripts below run.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from undertow.bench.peers.install import peers_root
from undertow.bench.sim import SimLLM
from undertow.bench.sim.server import running_server

PEERS = peers_root()  # `undertow peers install`'s folder (UNDERTOW_PEERS_DIR, else the user cache)


def _python(name: str) -> Path:
    exe = PEERS / name / "bin" / "python"
    if not exe.exists():
        pytest.skip(f"peer venv {name} is not installed under {PEERS}")
    return exe


def _run(exe: Path, script: str, env: dict[str, str], folder: Path) -> str:
    path = folder / "peer_script.py"  # a file: Trace reads its functions' source
    path.write_text(textwrap.dedent(script))
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **env}
    out = subprocess.run([str(exe), str(path)], check=False, capture_output=True, text=True,
                         timeout=300,
                         env=env, cwd=folder)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.slow
def test_dspy_predict_gets_its_field_markers_in_one_request(tmp_path: Path) -> None:
    exe = _python("dspy-3.4.1")
    with running_server(SimLLM()) as srv:
        stdout = _run(exe, f"""
            import dspy, json
            lm = dspy.LM("openai/sim", api_base="{srv.openai_base_url}", api_key="x", cache=False)
            dspy.configure(lm=lm)
            out = dspy.Predict("question -> answer")(question="not ( True ) and ( True ) is")
            print(json.dumps({{"answer": out.answer}}))
        """, {}, tmp_path)
        assert srv.stats()["requests"] == 1  # no second, fallback-adapter request
    assert json.loads(stdout.strip().splitlines()[-1])["answer"] in ("True", "False")


@pytest.mark.slow
def test_trace_optoprime_step_on_failures_is_answered_from_evidence(tmp_path: Path) -> None:
    exe = _python("trace-opt-0.1.3.8")
    with running_server(SimLLM()) as srv:
        _run(exe, """
            from opto import trace
            from opto.optimizers import OptoPrime
            from opto.utils.llm import CustomLLM
            items = ["not True and False or True is", "True or False and False is",
                     "not ( False ) and not True or True is", "False or True and not True is"]
            wrong = {"not True and False or True is": "False", "True or False and False is": "False",
                     "not ( False ) and not True or True is": "False",
                     "False or True and not True is": "True"}
            prompt = trace.node("Answer the question.", trainable=True, description="system prompt")
            @trace.bundle()
            def ask(system_prompt, question):
                "Answer the question with the system prompt."
                return wrong[question]
            @trace.bundle()
            def collect(*xs):
                "Collect the answers."
                return list(xs)
            opt = OptoPrime([prompt], llm=CustomLLM())
            out = collect(*[ask(prompt, q) for q in items])
            opt.zero_feedback()
            opt.backward(out, "\\n".join(f"ID [{i}]: Wrong." for i in range(len(items))))
            opt.step()
        """, {"TRACE_DEFAULT_LLM_BACKEND": "CustomLLM", "TRACE_CUSTOMLLM_URL": srv.openai_base_url,
              "TRACE_CUSTOMLLM_MODEL": "sim", "TRACE_CUSTOMLLM_API_KEY": "x"}, tmp_path)
        sim = srv.stats()["sim"]
    assert sim["by_role"].get("optimize") == 1
    assert sim["from_evidence"].get("optimize") == 1
