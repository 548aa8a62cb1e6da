"""The `undertow` command line (typer).

Sub-commands live next to what they drive: `perf` in `undertow.bench.perf.cli`, and
so on. Sub-apps load on first use (`undertow.bench.lazy_cli`) and heavy modules are
imported inside the commands, so `undertow --help` stays fast (`undertow perf startup`
measures it).
"""

from __future__ import annotations

from pathlib import Path

import typer
from undertow.bench.lazy_cli import LazyGroup
from undertow.bench.prefer_cli import prefer_cmd

app = typer.Typer(
    name="undertow",
    cls=LazyGroup,
    help="Optimize LLM agents from feedback: traced graphs, optimizers, benchmarks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("prefer")(prefer_cmd)


def _version(value: bool) -> None:
    if value:
        from undertow import __version__

        typer.echo(f"undertow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    log_level: str = typer.Option(
        "warning", "--log-level", help="Log undertow.* records at this level and above to stderr: "
        "debug, info, warning, error.", case_sensitive=False),
) -> None:
    """undertow: optimize LLM agents from feedback."""
    from undertow.engine.logs import configure_logging

    try:
        configure_logging(log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None


@app.command("sim-server")
def sim_server(
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    latency: float | None = typer.Option(None, help="Seconds added to every completion request."),
    fault: list[str] = typer.Option(
        [], help="Fault rule, repeatable, fired in order: e.g. 'status=429,times=2,retry_after_ms=10', "
        "'kind=truncate,probability=0.1', 'kind=hang', 'kind=malformed,api=anthropic'."),
    faults_json: str | None = typer.Option(None, help="A fault plan as JSON text or a file (see docs/sim-server.md)."),
    fault_seed: int | None = typer.Option(None, help="Seed of probabilistic faults."),
    rpm: float | None = typer.Option(None, help="Requests per minute the server accepts (a provider's "
                                     "limit); past it a completion gets 429 with retry-after-ms."),
    rpm_burst: float | None = typer.Option(None, help="Requests accepted at once after an idle spell "
                                           "(default: a minute's worth)."),
    sim_seed: int = typer.Option(0, help="Seed of the simulated LLM."),
    responder: str | None = typer.Option(None, help="module:factory serving instead of SimLLM (tests)."),
    verbose: bool = typer.Option(False, help="Log every request to stderr."),
) -> None:
    """Serve the simulated LLM over HTTP (OpenAI- and Anthropic-compatible), llm=sim."""
    from undertow.bench.sim.server import (
        FaultSpecError,
        build_plan,
        load_responder,
        serve,
    )

    try:
        plan = build_plan(fault, faults_json, latency, fault_seed, rpm, rpm_burst)
    except (FaultSpecError, OSError) as exc:
        raise typer.BadParameter(str(exc)) from None
    serve(host, port, plan=plan, responder=load_responder(responder, sim_seed), verbose=verbose)


@app.command()
def demo(
    out: Path = typer.Option(None, help="New folder for the run and its report (default: ./undertow-demo)."),
    seeds: int = typer.Option(2, min=1, help="Seeds per task x optimizer."),
    steps: int = typer.Option(4, min=1, help="Optimizer steps per run."),
) -> None:
    """Run the offline demo: LLM optimizers vs baselines on three tasks (llm=sim), with a report."""
    from undertow.bench.bench_cli import cli_guard
    from undertow.bench.console import cli_console
    from undertow.bench.demo import run_demo

    cli_guard(lambda: run_demo(out, seeds=seeds, steps=steps, console=cli_console()))


def main() -> None:
    """Entry point of the `undertow` console script and of `python -m undertow`."""
    from undertow.bench import interrupts

    interrupts.OWNS_PROCESS = True
    app()
