"""Export and import an experience library as JSON Lines.

Each line is one record: `{"record": <the latest version>, "importance": n}`. Import
validates every line before writing anything (a bad line names its number and the
problem), keeps ids, skips ids the library already has, and commits one generation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from undertow.optimizers.experience.records import parse_record
from undertow.optimizers.experience.store import INITIAL_IMPORTANCE, ExperienceStore


def export_jsonl(store: ExperienceStore, path: str | Path) -> int:
    """Write every record (latest version, deprecated ones included); returns the count."""
    stats = store.stats()
    records = store.records()
    tmp = Path(f"{path}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            imp = stats[rec.id].importance if rec.id in stats else 0
            fh.write(json.dumps({"record": rec.model_dump(mode="json"), "importance": imp},
                                sort_keys=True, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return len(records)


def read_jsonl(path: str | Path) -> list[tuple[Any, int]]:
    """Parse and validate an export; ValueError naming `file:line` on the first bad line."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or "record" not in obj:
                    raise TypeError('expected an object with a "record" key')
                rec = parse_record(obj["record"])
                if not rec.id:
                    raise ValueError("the record has no id")
                imp = obj.get("importance", INITIAL_IMPORTANCE)
                if not isinstance(imp, int) or isinstance(imp, bool):
                    raise TypeError(f"importance must be an integer, got {imp!r}")
            except (ValueError, TypeError, ValidationError) as exc:
                raise ValueError(f"{path}:{n}: {exc}; fix or drop that line and import again") from None
            out.append((rec, imp))
    return out


def import_jsonl(store: ExperienceStore, path: str | Path, *, run: str = "import") -> dict[str, int]:
    """Add the records of an export that the library lacks; returns {"added", "skipped"}."""
    rows = read_jsonl(path)
    added = skipped = 0
    for rec, imp in rows:
        if store.exists(rec.id):
            skipped += 1
            continue
        store.add(rec, run=run, op="import", importance=imp)
        added += 1
    if added:
        store.commit_generation(f"import {Path(path).name}")
    return {"added": added, "skipped": skipped}
