"""`undertow peers ...`: install the peer frameworks, list them, measure conformance."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

peers_app = typer.Typer(help="Other frameworks' own optimizers (Trace, TextGrad, DSPy, GEPA) in venvs of "
                             "their own, for `undertow bench run -o trace:optoprime,...`.",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _guard(fn):  # type: ignore[no-untyped-def]
    from undertow.bench.runner.errors import BenchError

    try:
        return fn()
    except BenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@peers_app.command("install")
def install_cmd(names: Annotated[list[str], typer.Argument(help="Peers: trace-opt, textgrad, dspy, gepa, or all.")]
                ) -> None:
    """Build each peer's venv (pinned version) in the cache dir; reuses a finished one."""
    from undertow.bench.peers.catalog import PACKAGES
    from undertow.bench.peers.install import install

    wanted = list(PACKAGES) if names == ["all"] else names
    for name in wanted:
        st = _guard(lambda name=name: install(name))
        typer.echo(f"{st.name} {st.version}: installed at {st.path}")


@peers_app.command("list")
def list_cmd() -> None:
    """Show each peer, its pinned version, whether it is installed, and its optimizers."""
    from undertow.bench.peers.catalog import OPTIMIZERS
    from undertow.bench.peers.install import list_peers, peers_root

    typer.echo(f"peer venvs live in {peers_root()}")
    for st in list_peers():
        opts = ", ".join(o.name for o in OPTIMIZERS.values() if o.package == st.name)
        state = "installed" if st.installed else st.note
        typer.echo(f"{st.name:10} {st.version:8} {state:12}  {opts}")


@peers_app.command("conformance")
def conformance_cmd(
    out: Annotated[Path | None, typer.Option(help="Folder for the peers' logs (default: a temp dir).")] = None,
    peer: Annotated[list[str] | None, typer.Option("--peer", "-p", help="Peer optimizers (default all installed).")] = None,
    steps: Annotated[int, typer.Option(help="Steps of the evidence-share runs.")] = 2,
    calls: Annotated[int, typer.Option(help="Call budget of each evidence-share run.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the scenario and the runs.")] = 0,
) -> None:
    """Print JSON: per peer, whether the simulator diagnoses its optimizer request as it
    diagnoses undertow's for the same items, outputs and feedback, and the share of
    optimizer requests it answered from evidence in a small run beside undertow's (llm=sim)."""
    from undertow.bench.peers.catalog import OPTIMIZERS
    from undertow.bench.peers.conformance import diagnose_same_scenario, evidence_shares, make_scenario
    from undertow.bench.runner.errors import BenchError

    names = [n.strip() for v in peer or [] for n in v.split(",") if n.strip()] or list(OPTIMIZERS)

    def go() -> dict:
        for n in names:
            if n not in OPTIMIZERS:
                raise BenchError(f"unknown peer optimizer {n!r}; known: {', '.join(OPTIMIZERS)}")
        folder = out or Path(tempfile.mkdtemp(prefix="undertow-conformance-"))
        return {"llm": "sim", "folder": str(folder),
                "same_scenario": diagnose_same_scenario(folder, names, make_scenario(seed=seed)),
                "evidence_share": evidence_shares(folder, seed=seed, steps=steps, calls=calls, optimizers=names)}

    typer.echo(json.dumps(_guard(go), indent=2, default=str))
