"""What crosses the sandbox boundary, and how: length-prefixed pickles of plain data.

Arguments and results travel as pickles (protocol 5) restricted to *plain data*:
None, bool, int, float, complex, str, bytes, and list, tuple, dict, set, frozenset
of those. Pickle (rather than JSON) keeps tuples, sets, bytes and non-string dict
keys intact, so a function returns the same value in the sandbox as in-process.
Anything else (objects, functions, numpy arrays, namedtuples) is refused with an
error naming where it sits, before it is sent.

The reader never imports or calls anything: `find_class` accepts only `complex`,
so a hostile worker cannot make the parent run code by sending a crafted pickle,
and frames above `max_bytes` are refused.

This module uses only the standard library: the worker process imports it without
the rest of undertow.
"""

from __future__ import annotations

import io
import linecache
import os
import pickle
import struct
import traceback
from typing import Any, BinaryIO

PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)
PLAIN_CONTAINERS = (list, tuple, dict, set, frozenset)
PLAIN_NAMES = "None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset"
MAX_DEPTH = 200
MAX_TEXT = 4000
_HEADER = struct.Struct("!Q")


class NotPlainDataError(TypeError):
    """A value that must cross the sandbox boundary is not plain data."""


def plain_problem(value: Any, where: str = "value") -> str | None:
    """Why `value` cannot cross the boundary (naming the path to the culprit), or None."""
    seen: set[int] = set()
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        v, path, depth = stack.pop()
        t = type(v)
        if t in PLAIN_SCALARS:
            continue
        if t not in PLAIN_CONTAINERS:
            name = f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__
            article = "an" if name[:1].lower() in "aeiou" else "a"
            return (f"{path} is {article} {name}; only plain data crosses the sandbox boundary "
                    f"({PLAIN_NAMES}): convert it first (e.g. .tolist(), dict(...), str(...))")
        if depth >= MAX_DEPTH:
            return f"{path} is nested deeper than {MAX_DEPTH} levels; flatten it"
        if id(v) in seen:
            continue
        seen.add(id(v))
        if t is dict:
            for k, item in v.items():
                stack.append((k, f"{path} key {k!r:.40}", depth + 1))
                stack.append((item, f"{path}[{k!r:.40}]", depth + 1))
        elif t is list or t is tuple:
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(v))
        else:
            stack.extend((item, f"{path} item {item!r:.40}", depth + 1) for item in v)
    return None


def dumps(message: Any) -> bytes:
    """Pickle `message` (protocol 5). The caller checks plain-ness where it matters."""
    return pickle.dumps(message, protocol=5)


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "complex"):
            return complex
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name}: only plain data crosses the sandbox boundary")


def loads(data: bytes) -> Any:
    """Unpickle plain data only; anything needing an import raises `UnpicklingError`."""
    return _PlainUnpickler(io.BytesIO(data)).load()


def encode_frame(message: Any) -> bytes:
    """One message as bytes: an 8-byte big-endian length, then the pickle."""
    body = dumps(message)
    return _HEADER.pack(len(body)) + body


def write_frame(stream: BinaryIO, message: Any) -> None:
    """Send one message (see `encode_frame`) and flush."""
    stream.write(encode_frame(message))
    stream.flush()


def read_exact(fd: int, n: int) -> bytes:
    """Read exactly `n` bytes from a file descriptor; EOFError if it closes first."""
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def frame_length(header: bytes) -> int:
    """The body length announced by an 8-byte header."""
    return _HEADER.unpack(header)[0]


HEADER_SIZE = _HEADER.size


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """`text`, or its last `limit` characters after a `...` line."""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def describe_exception(exc: BaseException, filename: str, kind: str, skip: str = "") -> dict[str, Any]:
    """Plain data about an exception: type, message, and the failing line of the code.

    The failing line is the innermost traceback frame in `filename` (or its
    preamble); frames of the file `skip` (the runner itself) are left out of the
    traceback text.
    """
    own = (filename, f"{filename} (preamble)")
    lineno = line = None
    where: str | None = filename
    if isinstance(exc, SyntaxError) and exc.filename in own:
        text = exc.text or linecache.getline(exc.filename, exc.lineno or 0)
        lineno, line, where = exc.lineno, text.strip() or None, exc.filename
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != skip]
    for fr in reversed(frames):
        if fr.filename in own:
            lineno, line, where = fr.lineno, fr.line, fr.filename
            break
    text = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(exc), exc))
    return {"kind": kind, "type": type(exc).__qualname__, "message": clip(str(exc)),
            "filename": where, "lineno": lineno, "line": line,
            "traceback": clip("Traceback (most recent call last):\n" + text)}
