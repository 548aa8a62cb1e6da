"""`kv`: a small in-process key-value "API" with pagination and error codes.

Commands: `get <key>` and `list <prefix> [cursor=<c>]`. A list page holds 4 keys
(`page_size`); a page that is not the last carries `next_cursor`, which the next call
passes as `cursor=<c>`. Errors: E_NOKEY (missing key), E_PAGE (bad cursor), E_ARGS.
"""

from __future__ import annotations

import json
import random
import re

from undertow.bench.tasks.toolworld.base import ToolError

PAGE_SIZE = 4
DEMO = {"demo/a": 17, "demo/b": 4, "demo/c": 9, "demo/d": 23, "demo/e": 8, "demo/f": 15}
PREFIXES = ("fruit/", "user/", "city/", "part/")
_WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris", "jade",
          "kiwi", "lotus", "maple", "nova", "opal", "pike", "quill", "reed", "sage", "tide")

TRUE_DOC = """kv[<command> ...]: a key-value store.
- Get the value of a key. Example: kv[get demo/a] -> 17
- A missing key is an error. Example: kv[get demo/zz] -> Error E_NOKEY: no key 'demo/zz'
- List keys under a prefix, 4 per page (page_size: 4); a page with more to come has next_cursor, pass it as cursor=<next_cursor>. Example: kv[list demo/] -> {"keys": ["demo/a", "demo/b", "demo/c", "demo/d"], "page_size": 4, "next_cursor": "c1b"}
- Next page. Example: kv[list demo/ cursor=c1b] -> {"keys": ["demo/e", "demo/f"], "page_size": 4, "next_cursor": null}
- Errors: E_NOKEY (missing key), E_PAGE (invalid cursor), E_ARGS (unknown command or parameter)."""

DOC = """kv[<command> ...]: a key-value store.
- Get the value of a key. Example: kv[get demo/a] -> 17
- A missing key gives null. Example: kv[get demo/zz] -> null
- List keys under a prefix, 10 per page (page_size: 10); for the next page pass page=2. Example: kv[list demo/] -> {"keys": ["demo/a", "demo/b", "demo/c", "demo/d", "demo/e", "demo/f"], "page_size": 10, "next_cursor": null}
- Errors: E_ARGS (unknown command or parameter)."""


def make_data(seed: int) -> dict[str, int]:
    """The store's contents for a world seed: the fixed demo keys plus 5-11 keys per prefix."""
    rng = random.Random(f"kv:{seed}")
    data = dict(DEMO)
    for prefix in PREFIXES:
        for word in sorted(rng.sample(_WORDS, rng.randint(5, 11))):
            data[prefix + word] = rng.randint(1, 99)
    return data


def encode_cursor(offset: int) -> str:
    return f"c{offset * 6 + 3:x}"


def decode_cursor(cursor: str) -> int:
    """The offset a cursor stands for; `ToolError(E_PAGE)` for one this store never issued."""
    m = re.fullmatch(r"c([0-9a-f]+)", cursor)
    raw = int(m.group(1), 16) if m else -1
    if raw < 3 or (raw - 3) % 6:
        raise ToolError("E_PAGE", f"invalid cursor {cursor!r}; pass the next_cursor of the previous page")
    return (raw - 3) // 6


class KVStore:
    """The store for one world: `__call__(args)` is the tool."""

    def __init__(self, data: dict[str, int]) -> None:
        self.data = dict(sorted(data.items()))

    def __call__(self, args: str) -> str:
        parts = args.split()
        if not parts:
            raise ToolError("E_ARGS", "expected a command: get or list")
        cmd, rest = parts[0].lower(), parts[1:]
        if cmd == "get":
            if len(rest) != 1:
                raise ToolError("E_ARGS", "get takes one key")
            if rest[0] not in self.data:
                raise ToolError("E_NOKEY", f"no key {rest[0]!r}")
            return str(self.data[rest[0]])
        if cmd == "list":
            return self._list(rest)
        raise ToolError("E_ARGS", f"unknown command {cmd!r}; expected get or list")

    def _list(self, rest: list[str]) -> str:
        prefix, offset = "", 0
        for part in rest:
            if "=" in part:
                name, _, value = part.partition("=")
                if name != "cursor":
                    raise ToolError("E_ARGS", f"unknown parameter {name!r}")
                offset = decode_cursor(value)
            elif not prefix:
                prefix = part
            else:
                raise ToolError("E_ARGS", f"list takes one prefix, got another: {part!r}")
        keys = [k for k in self.data if k.startswith(prefix)]
        if offset > len(keys):
            raise ToolError("E_PAGE", "cursor past the end of the listing")
        page = keys[offset:offset + PAGE_SIZE]
        more = offset + PAGE_SIZE < len(keys)
        return json.dumps({"keys": page, "page_size": PAGE_SIZE,
                           "next_cursor": encode_cursor(offset + PAGE_SIZE) if more else None})
