"""Shared helpers of the runner tests: small configs and a silent console."""

from __future__ import annotations

import io
import textwrap

import pytest
from rich.console import Console

SMALL = {"n_train": 8, "n_val": 6, "n_test": 6, "batch_size": 2}


@pytest.fixture
def quiet() -> Console:
    """A console that writes nowhere visible (progress and tables still render)."""
    return Console(file=io.StringIO(), width=120)


def kill_script(victim: str, step: int, call: int, make_config_code: str) -> str:
    """A child script (run with `python -c SCRIPT OUT`) that runs a sweep into OUT and
    SIGKILLs its own process at LLM call `call` of step `step` of run `victim`: a crash
    mid-step, with no cleanup. `make_config_code` binds `config` (`make_config` is
    imported)."""
    head = textwrap.dedent(f"""
        import os, signal, sys
        from undertow.bench.runner import make_config, start
        from undertow.engine import Callback

        class Kill(Callback):
            run = step = calls = 0
            def on_run_start(self, run): self.run = run.run_id
            def on_step_start(self, step): self.step, self.calls = step.step, 0
            def on_llm_call(self, call):
                self.calls += 1
                if self.run == {victim!r} and self.step == {step} and self.calls == {call}:
                    os.kill(os.getpid(), signal.SIGKILL)
    """)
    return head + textwrap.dedent(make_config_code) + "\nstart(config, sys.argv[1], callbacks=[Kill()])\n"
