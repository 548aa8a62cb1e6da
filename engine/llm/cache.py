"""The response cache: diskcache, keyed by a canonical hash of the whole request.

The key is the SHA-256 of the request's canonical JSON (sorted keys, no spaces,
UTF-8), so it is stable across processes and Python versions, unlike `hash()`.
Every field of `LLMRequest` enters it: provider, endpoint (base URL), model,
messages, every sampling parameter, tools, response format and the sample index.
API keys are not part of a request, so they can never reach a key or an entry.
Entries are plain JSON strings; each hit decodes a fresh copy, so a caller that
mutates what it got cannot change what the next caller gets.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from undertow.engine.llm.errors import LLMConfigError
from undertow.engine.llm.types import LLMRequest, Reply

#: Bumped when the meaning of a key or the layout of an entry changes.
KEY_VERSION = "undertow-llm-v1"


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)


def canonical_json(value: Any) -> str:
    """JSON text that is equal for equal values: sorted keys, no spaces, UTF-8."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise LLMConfigError(
            f"request is not plain JSON ({exc}); pass only str/int/float/bool/None, "
            "lists and dicts with string keys, and finite numbers") from exc


def request_key(request: LLMRequest) -> str:
    """The cache key of a request: sha256 hex of its canonical JSON."""
    payload = request.model_dump(mode="json")
    payload["_v"] = KEY_VERSION
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    """`$UNDERTOW_CACHE_DIR`, else `$XDG_CACHE_HOME/undertow/llm`, else ~/.cache/..."""
    import os

    if env := os.environ.get("UNDERTOW_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "undertow" / "llm"


class ResponseCache:
    """Replies on disk, shared safely by threads and processes (SQLite underneath).

    `size_limit` bounds the directory in bytes (least recently stored go first).
    """

    def __init__(self, directory: str | Path, *, size_limit: int = 2**30) -> None:
        import diskcache

        self.directory = Path(directory)
        self._cache = diskcache.Cache(str(self.directory), size_limit=size_limit)

    def get(self, key: str) -> Reply | None:
        """The reply stored under `key`, as a fresh copy; None on a miss."""
        raw = self._cache.get(key)
        if raw is None:
            return None
        try:
            return Reply.from_json(json.loads(raw))
        except (TypeError, ValueError):
            return None  # an entry from an incompatible layout: treat as a miss

    def set(self, key: str, reply: Reply) -> None:
        """Store a complete reply (only complete replies ever reach here)."""
        self._cache.set(key, json.dumps(reply.to_json(), ensure_ascii=False))

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        """Drop every entry."""
        self._cache.clear()

    def close(self) -> None:
        """Close the underlying SQLite connections."""
        self._cache.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r}, entries={len(self)})"
