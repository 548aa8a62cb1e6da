"""`undertow experience`: create a library and look into it from the shell (init, list,
show, search, export, import, stats).

The library path comes from `--db`, else `$UNDERTOW_EXPERIENCE_DB`, else the default
library in the user's data folder (`default_db()`), which `undertow experience init`
creates. Heavy imports happen inside commands. User errors (no library there, a file
that is not a library, an unknown record, a bad import file) print one line on stderr
and exit with status 2, as `undertow bench` does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

experience_app = typer.Typer(help="Create, inspect and move experience libraries (SQLite files).",
                             no_args_is_help=True, add_completion=False)

#: Exit status of user errors, the same as `undertow bench`.
USER_ERROR = 2
ENV_VAR = "UNDERTOW_EXPERIENCE_DB"

_DB = typer.Option(None, "--db", envvar=ENV_VAR, show_default=False,
                   help="The library file (default: $UNDERTOW_EXPERIENCE_DB, else the default "
                        "library that `undertow experience init` creates).")


def default_db() -> Path:
    """The default library: `experience.sqlite` in the user's undertow data folder."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("undertow")) / "experience.sqlite"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(USER_ERROR)


@contextmanager
def _open(db: Path | None, *, create: bool = False) -> Iterator[Any]:
    from undertow.optimizers.experience import ExperienceStore, ExperienceStoreError

    db = db or default_db()
    if not create and not db.exists():
        raise _fail(f"no library at {db}; create one with `undertow experience init --db {db}`, "
                    "or pass --db with an existing file")
    try:
        if create:
            db.parent.mkdir(parents=True, exist_ok=True)
        store = ExperienceStore(db)
    except ExperienceStoreError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot open {db}: {exc.strerror or exc}") from None
    try:
        yield store
    finally:
        store.close()


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0] if exc.args else exc)) from None


def _line(rec: Any, importance: int) -> str:
    text = rec.render().replace("\n", " ")
    return f"{rec.id}\t{rec.kind}\t{rec.status}\t{rec.scope}\timp={importance}\t{text[:80]}"


@experience_app.command()
def init(db: Path | None = _DB) -> None:
    """Create an empty library (the default one, or --db); an existing one is left as it is."""
    path = db or default_db()
    existed = path.exists()
    with _open(path, create=True) as store:
        counts = store.counts()
    records = sum(counts.get("records", {}).values())
    typer.echo(f"{'library already exists' if existed else 'created library'}: {path} "
               f"({records} records)")


@experience_app.command("list")
def list_(db: Path | None = _DB, kind: str | None = typer.Option(None, help="insight, trajectory, workflow, doc_patch"),
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
def show(record_id: str, db: Path | None = _DB) -> None:
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
def search(query: str, db: Path | None = _DB, limit: int = typer.Option(10, min=1)) -> None:
    """Full-text (BM25) search over the latest records; best first."""
    with _open(db) as store:
        stats = store.stats()
        for rec, score in store.search(query, limit=limit):
            typer.echo(f"{score:8.3f}\t" + _line(rec, stats[rec.id].importance if rec.id in stats else 0))


@experience_app.command("export")
def export(out: Path, db: Path | None = _DB) -> None:
    """Write every record to a JSON Lines file."""
    from undertow.optimizers.experience.jsonl import export_jsonl

    with _open(db) as store:
        typer.echo(f"exported {export_jsonl(store, out)} records to {out}")


@experience_app.command("import")
def import_(src: Path, db: Path | None = _DB) -> None:
    """Add the records of a JSON Lines export (validated first; existing ids are skipped)."""
    from undertow.optimizers.experience.jsonl import import_jsonl

    if not src.exists():
        raise _fail(f"{src} does not exist")
    with _open(db, create=True) as store:
        typer.echo(json.dumps(_guard(lambda: import_jsonl(store, src))))


@experience_app.command()
def stats(db: Path | None = _DB) -> None:
    """Counts as JSON: generation, records by kind/status, events by kind, versions."""
    with _open(db) as store:
        typer.echo(json.dumps(store.counts(), indent=2, sort_keys=True))
