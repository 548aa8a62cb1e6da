"""MkDocs hook: lay the `undertow` package out as it installs, for the API reference.

The repository maps folders onto the import namespace (setup.py): `bench/_root` is
`undertow`, `engine/` is `undertow.engine`, and so on. mkdocstrings reads source files
by their import path, so before a build this hook makes `build/apidoc-src/undertow/`
out of symbolic links with the installed layout; `mkdocs.yml` points the Python
handler there. Nothing is imported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ROOTS = ("engine", "optimizers", "agents", "bench")


def build_source_tree(repo: Path) -> Path:
    """(Re)create `<base>/undertow`; return `<base>`: `$UNDERTOW_APIDOC_SRC` when set
    (mkdocs.yml reads the same variable), else `build/apidoc-src` under `repo`."""
    base = Path(os.environ.get("UNDERTOW_APIDOC_SRC") or repo / "build" / "apidoc-src")
    package = base / "undertow"
    if base.exists():
        shutil.rmtree(base)
    package.mkdir(parents=True)
    for entry in (repo / "bench" / "_root").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry.resolve())
    for root in ROOTS:
        (package / root).symlink_to((repo / root).resolve())
    return base


def on_startup(**_: Any) -> None:
    """MkDocs entry point, before any plugin's `on_config`: mkdocstrings resolves its
    `paths` there, so the tree must exist by then (a fresh clone has none)."""
    build_source_tree(Path(__file__).resolve().parents[1])
