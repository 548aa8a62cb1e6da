"""`Module`: a container that finds its parameters and saves them as JSON.

Parameters are found in instance attributes, nested modules, and lists, tuples and
dicts of them, plus the `code` parameters of trainable methods (`@op(trainable=True)`
on the class). Files are plain JSON — code as text, never pickles — written
atomically; loading validates everything before it changes anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from undertow.engine.errors import InvalidValueError, StateError
from undertow.engine.files import atomic_write_text
from undertow.engine.params import Parameter

FORMAT = "undertow.module"
FORMAT_VERSION = 1


class Module:
    """Base class for trainable agents and components (like `torch.nn.Module`)."""

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, each once, in a stable order."""
        seen: set[int] = set()
        yield from _walk(self, "", seen, set())

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def _repr_html_(self) -> str:
        """Notebooks show a table of the parameters (name, kind, value, version)."""
        from undertow.engine.notebook import module_html

        return module_html(self)

    def state_dict(self) -> dict[str, Any]:
        """{name: value} of every parameter (plain JSON data; code as text)."""
        return {name: _copy(p.value) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any], *, strict: bool = True) -> None:
        """Set parameter values from `state`; all are validated first, so an error changes nothing.

        With `strict`, the names must match exactly (missing and unexpected names are
        listed in the error).
        """
        params = dict(self.named_parameters())
        if strict:
            missing = sorted(set(params) - set(state))
            unexpected = sorted(set(state) - set(params))
            if missing or unexpected:
                raise StateError(
                    f"state does not match {type(self).__name__}: missing {missing}, unexpected {unexpected}; "
                    "load a state saved from the same module, or pass strict=False"
                )
        staged: list[tuple[Parameter, Any]] = []
        for name, value in state.items():
            p = params.get(name)
            if p is None:
                continue
            try:
                staged.append((p, p.validate(value)))
            except InvalidValueError as exc:
                raise StateError(f"cannot load parameter {name!r}: {exc}") from None
        for p, value in staged:
            p.set(value)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters to a JSON file atomically (a crash never leaves half a file)."""
        from undertow import __version__

        path = Path(path)
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "undertow_version": __version__,
            "module": f"{type(self).__module__}.{type(self).__qualname__}",
            "parameters": {name: {"kind": p.kind, "value": p.value} for name, p in self.named_parameters()},
        }
        atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
        return path

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load parameters saved by `save`. A wrong file, version, kind or value changes nothing."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StateError(f"no saved module at {path}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StateError(f"{path} is not a JSON module file ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise StateError(f"{path} is not an undertow module file (no \"format\": \"{FORMAT}\")")
        if doc.get("format_version") != FORMAT_VERSION:
            raise StateError(
                f"{path} has format version {doc.get('format_version')!r}; this undertow reads version "
                f"{FORMAT_VERSION}: load it with the undertow version that wrote it "
                f"({doc.get('undertow_version', 'unknown')})"
            )
        entries = doc.get("parameters")
        if not isinstance(entries, dict) or not all(isinstance(e, dict) and "value" in e for e in entries.values()):
            raise StateError(f"{path}: \"parameters\" must map names to {{\"kind\", \"value\"}} objects")
        params = dict(self.named_parameters())
        for name, entry in entries.items():
            if name in params and entry.get("kind") != params[name].kind:
                raise StateError(
                    f"{path}: parameter {name!r} was saved as {entry.get('kind')!r} but is "
                    f"{params[name].kind!r} here; the file belongs to a different module definition"
                )
        self.load_state_dict({name: e["value"] for name, e in entries.items()})


def _copy(v: Any) -> Any:
    return json.loads(json.dumps(v)) if isinstance(v, (dict, list)) else v


def _walk(obj: Any, prefix: str, seen: set[int], visiting: set[int]) -> Iterator[tuple[str, Parameter]]:
    from undertow.engine.tracing import TracedFunction

    if id(obj) in visiting:
        return
    visiting.add(id(obj))
    if isinstance(obj, Parameter):
        if id(obj) not in seen:
            seen.add(id(obj))
            yield prefix.rstrip("."), obj
    elif isinstance(obj, TracedFunction):
        if obj.code is not None:
            yield from _walk(obj.code, prefix + "code", seen, visiting)
    elif isinstance(obj, Module):
        for klass in reversed(type(obj).__mro__):
            for attr, val in vars(klass).items():
                if isinstance(val, TracedFunction) and val.code is not None:
                    yield from _walk(val.code, f"{prefix}{attr}.code", seen, visiting)
        for attr, val in vars(obj).items():
            yield from _walk(val, f"{prefix}{attr}.", seen, visiting)
    elif isinstance(obj, (list, tuple)):
        for i, val in enumerate(obj):
            yield from _walk(val, f"{prefix}{i}.", seen, visiting)
    elif isinstance(obj, dict):
        for key, val in obj.items():
            yield from _walk(val, f"{prefix}{key}.", seen, visiting)
    visiting.discard(id(obj))
