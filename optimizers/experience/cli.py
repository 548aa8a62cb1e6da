"""`undertow experience`: look into a library from the shell (list, show, search, export, import, stats).

The library path comes from `--db` or `$UNDERTOW_EXPERIENCE_DB`. Heavy imports happen
inside commands. A file that is not a library gives a one-line error and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

experience_app = typer.Typer(help="Inspect and move experience libraries (SQLite files).",
                             no_args_is_help=True, add_completion=False)

_DB = typer.Option(..., "--db", envvar="UNDERTOW_EXPERIENCE_DB",
                   help="The library file (or $UNDERTOW_EXPERIENCE_DB).")


@contextmanager
def _open(db: Path, *, create: bool = False) -> Iterator[Any]:
    from undertow.optimizers.experience import ExperienceStore, ExperienceStoreError

    if not create and not db.exists():
        typer.echo(f"error: no library at {db}; pass --db with an existing file", err=True)
        raise typer.Exit(1)
    try:
        store = ExperienceStore(db)
    except ExperienceStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    try:
        yield store
    finally:
        store.close()


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (KeyError, ValueError) as exc:
        typer.echo(f"error: {exc.args[0] if exc.args else exc}", err=True)
        raise typer.Exit(1) from None


def _line(rec: Any, importance: int) -> str:
    text = rec.render().replace("\n", " ")
    return f"{rec.id}\t{rec.kind}\t{rec.status}\t{rec.scope}\timp={importance}\t{text[:80]}"


@experience_app.command("list")
def list_(db: Path = _DB, kind: str | None = typer.Option(None, help="insight, trajectory, workflow, doc_patch"),
          status: str | None = typer.Option(None, help="candidate, verified, active, deprecated"),
          scope: str | None = typer.Option(None, help="Only this scope (and 'global')."),
          generation: int | None = typer.Option(None, help="As of this committed generation.")) -> None:
    """One line per record: id, kind, status, scope, importance, text."""
    with _open(db) as store:
        recs = _guard(lambda: store.records(kinds=[kind] if kind else None, statuses=[status] if status else None,
                                            scope=scope, generation=generation))
        stats = store.stats(generation)
        for r in recs:
            typer.echo(_line(r, stats[r.id].importance if r.id in stats else 0))


@experience_app.command()
def show(record_id: str, db: Path = _DB) -> None:
    """A record as JSON, with its statistics and version history."""
    with _open(db) as store:
        rec = _guard(lambda: store.get(record_id))
        stats = store.stats().get(record_id)
        out = {"record": rec.model_dump(mode="json"),
               "stats": stats.model_dump() if stats else None,
               "history": [{"version": v.version, "generation": v.generation, "op": op}
                           for op, v in store.history(record_id)]}
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))


@experience_app.command()
def search(query: str, db: Path = _DB, limit: int = typer.Option(10, min=1)) -> None:
    """Full-text (BM25) search over the latest records; best first."""
    with _open(db) as store:
        stats = store.stats()
        for rec, score in store.search(query, limit=limit):
            typer.echo(f"{score:8.3f}\t" + _line(rec, stats[rec.id].importance if rec.id in stats else 0))


@experience_app.command("export")
def export(out: Path, db: Path = _DB) -> None:
    """Write every record to a JSON Lines file."""
    from undertow.optimizers.experience.jsonl import export_jsonl

    with _open(db) as store:
        typer.echo(f"exported {export_jsonl(store, out)} records to {out}")


@experience_app.command("import")
def import_(src: Path, db: Path = _DB) -> None:
    """Add the records of a JSON Lines export (validated first; existing ids are skipped)."""
    from undertow.optimizers.experience.jsonl import import_jsonl

    if not src.exists():
        typer.echo(f"error: {src} does not exist", err=True)
        raise typer.Exit(1)
    with _open(db, create=True) as store:
        typer.echo(json.dumps(_guard(lambda: import_jsonl(store, src))))


@experience_app.command()
def stats(db: Path = _DB) -> None:
    """Counts as JSON: generation, records by kind/status, events by kind, versions."""
    with _open(db) as store:
        typer.echo(json.dumps(store.counts(), indent=2, sort_keys=True))
