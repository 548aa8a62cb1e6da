"""Trainable code: a function's own source as a `code` parameter.

The signature of a code parameter is a constraint: every new value must define a
top-level function with the same name, the same parameters (names and kinds) and
the same sync/async nature. Changing a default value or an annotation is allowed.
The body, helper functions and imports may change freely.

Compiled code is registered with `linecache` under a synthetic filename, so a
traceback (and an error node) shows the failing line of the code that actually ran.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
import textwrap
from collections.abc import Callable
from typing import Any


def function_source(fn: Callable[..., Any]) -> str:
    """The source of `fn` without its decorators, dedented."""
    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise ValueError(
            f"cannot read the source of {getattr(fn, '__qualname__', fn)!r} ({exc}); "
            "trainable code needs a function defined in a file"
        ) from None
    tree = ast.parse(src)
    fdef = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    lines = src.splitlines(keepends=True)
    return "".join(lines[fdef.lineno - 1:])


def _find_def(tree: ast.Module, name: str | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if name is None:
        return defs[0] if defs else None
    return next((d for d in defs if d.name == name), None)


def _key(fdef: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    a = fdef.args
    parts = [x.arg for x in a.posonlyargs]
    if a.posonlyargs:
        parts.append("/")
    parts += [x.arg for x in a.args]
    if a.vararg:
        parts.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        parts.append("*")
    parts += [x.arg for x in a.kwonlyargs]
    if a.kwarg:
        parts.append("**" + a.kwarg.arg)
    prefix = "async def" if isinstance(fdef, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {fdef.name}({', '.join(parts)})"


def signature_key(source: str, *, where: str = "code") -> str:
    """`def name(a, b, *, c)`: the part of a function's signature that must not change."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the initial code does not parse: {exc}") from None
    fdef = _find_def(tree, None)
    if fdef is None:
        raise ValueError(f"{where}: the initial code defines no top-level function")
    return _key(fdef)


def check_code(source: str, signature: str | None) -> str | None:
    """Why `source` breaks the code constraint, or None when it is acceptable."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        line = f": {exc.text.strip()!r}" if exc.text else ""
        return f"syntax error at line {exc.lineno}: {exc.msg}{line}"
    if signature is None:
        return None
    name = re.match(r"(?:async )?def (\w+)\(", signature).group(1)  # type: ignore[union-attr]
    fdef = _find_def(tree, name)
    if fdef is None:
        return f"no top-level function named {name!r} (expected `{signature}`)"
    got = _key(fdef)
    if got != signature:
        return f"signature changed: expected `{signature}`, got `{got}`"
    return None


def compile_function(source: str, name: str, globals_: dict[str, Any], filename: str) -> Callable[..., Any]:
    """Compile `source` and return its function `name`, resolving globals in `globals_`.

    The definitions land in a copy of `globals_` (the module's own names are never
    overwritten, and helpers defined beside the function are visible to it); the
    source is registered in `linecache` so tracebacks show it. A SyntaxError the
    parser accepts but the compiler rejects surfaces here.
    """
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    code = compile(source, filename, "exec")
    namespace = dict(globals_)
    exec(code, namespace)  # noqa: S102 - in-process execution of the user's own trainable code
    return namespace[name]
