"""`undertow sandbox ...`: which isolation level is active here, and does it hold?"""

from __future__ import annotations

import json

import typer
from undertow.bench.console import cli_console

sandbox_app = typer.Typer(help="The sandbox that runs untrusted code: isolation level and attack suite.",
                          no_args_is_help=True)


@sandbox_app.command("check")
def check(
    level: str = typer.Option("auto", help="Isolation level to attack: auto (the default one here), "
                                           "bubblewrap, namespace, uid, rlimits, or all."),
    attack: list[str] = typer.Option(None, help="Run only these attacks (by name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON instead of a table."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the table as Markdown (for docs)."),
) -> None:
    """Print the isolation level and run the red-team suite against it (exit 1 if a claimed defence fails)."""
    from rich.table import Table
    from undertow.bench.redteam.attacks import run_suite
    from undertow.engine.sandbox import LEVELS, available, choose

    console = cli_console()
    reasons = available()
    if level == "all":
        levels = [lvl for lvl in LEVELS if reasons[lvl] is None]
    else:
        try:
            levels = [choose(level).level]
        except (ValueError, RuntimeError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--level") from None
    if not as_json:
        default = choose("auto")
        console.print(f"[bold]default isolation level:[/bold] {default.level}")
        for lvl in LEVELS:
            console.print(f"  {lvl:<11} {'available' if reasons[lvl] is None else 'unavailable: ' + reasons[lvl]}")
    rows = [row for lvl in levels for row in run_suite(lvl, attack or None)]
    broken = [r for r in rows if r["claimed"] == "defended" and r["outcome"] != "blocked"]
    if as_json:
        typer.echo(json.dumps({"levels": levels, "rows": rows, "claims_broken": len(broken)}, indent=2))
    elif markdown:
        typer.echo(markdown_table(rows, levels))
    else:
        table = Table("attack", "category", *levels, title="attack -> outcome per level (* = claimed defence)")
        for column in table.columns:
            column.overflow = "fold"
        by_attack: dict[str, dict[str, dict[str, str]]] = {}
        for r in rows:
            by_attack.setdefault(r["attack"], {})[r["level"]] = r
        for name, cells in by_attack.items():
            first = next(iter(cells.values()))
            shown = []
            for lvl in levels:
                cell = cells.get(lvl)
                if cell is None:
                    shown.append("")
                    continue
                color = "green" if cell["outcome"] == "blocked" else "red"
                star = "*" if cell["claimed"] == "defended" else ""
                shown.append(f"[{color}]{cell['outcome']}{star}[/{color}]")
            table.add_row(name, first["category"], *shown)
        console.print(table)
        console.print(f"{len(rows)} attacks run; claimed defences broken: {len(broken)}")
    if broken:
        raise typer.Exit(1)


def markdown_table(rows: list[dict[str, str]], levels: list[str]) -> str:
    """attack | category | one column per level; `*` marks a level's claimed defence."""
    lines = [f"| attack | category | {' | '.join(levels)} |", "|---|---|" + "---|" * len(levels)]
    by_attack: dict[str, dict[str, dict[str, str]]] = {}
    for r in rows:
        by_attack.setdefault(r["attack"], {})[r["level"]] = r
    for name, cells in by_attack.items():
        first = next(iter(cells.values()))
        shown = [(cells[lvl]["outcome"] + ("*" if cells[lvl]["claimed"] == "defended" else "")) if lvl in cells else ""
                 for lvl in levels]
        lines.append(f"| {name}: {first['description']} | {first['category']} | {' | '.join(shown)} |")
    return "\n".join(lines)
