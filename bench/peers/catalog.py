"""Which peer frameworks the bench can run, at which pinned versions, and which of
their optimizers it drives.

A *peer* is another framework's own optimizer (Trace's OptoPrime, TextGrad's TGD,
DSPy's COPRO and MIPROv2, the GEPA package's `optimize`), run with its stock prompts
in a virtual environment of its own. Its bench name is `framework:optimizer`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerPackage:
    """A pip-installable framework at a pinned version."""

    name: str          # the name `undertow peers install NAME` takes (the PyPI name)
    version: str
    module: str        # what `import` checks after installing (comma-separated for several)
    extras: tuple[str, ...] = ()  # pinned companions the drivers need (e.g. GEPA's LiteLLM)

    @property
    def requirements(self) -> list[str]:
        return [f"{self.name}=={self.version}", *self.extras]

    @property
    def label(self) -> str:
        """What result rows say, e.g. `trace-opt 0.1.3.8`."""
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class PeerOptimizer:
    """One optimizer of a peer package, as the bench registers it."""

    name: str          # bench name, e.g. "trace:optoprime"
    package: str       # key of PACKAGES
    driver: str        # module file under undertow/bench/peers/drivers/
    description: str


PACKAGES: dict[str, PeerPackage] = {p.name: p for p in (
    PeerPackage("trace-opt", "0.1.3.8", "opto"),
    PeerPackage("textgrad", "0.1.8", "textgrad"),
    # MIPROv2 needs optuna, an optional dependency of dspy.
    PeerPackage("dspy", "3.4.1", "dspy, optuna", extras=("optuna==5.1.0",)),
    # gepa's default adapter and reflection LM call LiteLLM, which gepa does not require.
    PeerPackage("gepa", "0.1.4", "gepa, litellm", extras=("litellm==1.110.2",)),
)}

OPTIMIZERS: dict[str, PeerOptimizer] = {o.name: o for o in (
    PeerOptimizer("trace:optoprime", "trace-opt", "trace_optoprime.py",
                  "Trace's own OptoPrime, stock prompts (peer, own venv)"),
    PeerOptimizer("textgrad:tgd", "textgrad", "textgrad_tgd.py",
                  "TextGrad's own TGD, stock prompts (peer, own venv)"),
    PeerOptimizer("dspy:copro", "dspy", "dspy_copro.py",
                  "DSPy's own COPRO instruction search (peer, own venv)"),
    PeerOptimizer("dspy:miprov2", "dspy", "dspy_miprov2.py",
                  "DSPy's own MIPROv2: instructions and demos (peer, own venv)"),
    PeerOptimizer("gepa:optimize", "gepa", "gepa_optimize.py",
                  "the GEPA package's own gepa.optimize (peer, own venv)"),
)}

#: Task families whose trainable parameter a peer can optimize: the reasoning tasks,
#: whose one parameter is the agent's system prompt.
SUPPORTED_FAMILIES = frozenset({"reasoning"})


def package_of(optimizer: str) -> PeerPackage:
    return PACKAGES[OPTIMIZERS[optimizer].package]
