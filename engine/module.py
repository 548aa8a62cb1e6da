"""`Module`: a container that finds its parameters and saves them as JSON.

Parameters are found in instance attributes, nested modules, and lists, tuples and
dicts of them, plus the `code` parameters of trainable methods (`@op(trainable=True)`
on the class). Names are dotted paths from the root module (`encoder.prompt`,
`_base.method1.code`), unique in the tree: each parameter is listed once, under the
first path that reaches it. A trainable method's code belongs to the instance (see
`undertow.engine.tracing`); a base-class version that a subclass overrides is listed
as `<BaseClass>.<method>.code`, since `super()` calls may still run it. Files are plain JSON — code as text, never pickles — written
atomically; loading validates everything before it changes anything.
"""

from __future__ import annotations

import json
import re
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
        names: set[str] = set()
        for name, p in _walk(self, "", seen, set()):
            if name in names:
                raise StateError(
                    f"two parameters of {type(self).__name__} have the path {name!r} (a dict key or attribute "
                    "name containing '.'?); rename one so that every saved value has its own name"
                )
            names.add(name)
            yield name, p

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
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StateError(f"no saved module at {path}") from None
        except UnicodeDecodeError as exc:
            raise StateError(f"{path} is not a JSON module file ({exc})") from None
        if not text.strip():
            raise StateError(f"{path} is empty, not a saved module; nothing was loaded. Pass a file "
                             "written by Module.save()")
        depth = json_depth(text)
        if depth > MAX_LOAD_DEPTH:
            raise StateError(f"{path} nests values {depth} levels deep; module files hold at most "
                             f"{MAX_LOAD_DEPTH} (a file saved by `save` never comes close): it was not made by undertow")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
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
                kind = params[name].kind
                # files from before choices= / schema= set the kind when kind= was left out
                older = (f"; or it was saved before a parameter given {'choices=' if kind == 'choice' else 'schema='} "
                         f"without kind= became {kind!r}: then set its \"kind\" to {kind!r} in the file (the "
                         "value is checked on load)") if kind in ("choice", "json") else ""
                raise StateError(
                    f"{path}: parameter {name!r} was saved as {entry.get('kind')!r} but is "
                    f"{kind!r} here; the file belongs to a different module definition{older}"
                )
        self.load_state_dict({name: e["value"] for name, e in entries.items()})


MAX_LOAD_DEPTH = 100
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON `text` nest (strings skipped); linear time."""
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def _copy(v: Any) -> Any:
    return json.loads(json.dumps(v)) if isinstance(v, (dict, list)) else v


def _walk(obj: Any, prefix: str, seen: set[int], visiting: set[int]) -> Iterator[tuple[str, Parameter]]:
    from undertow.engine.tracing import METHODS_ATTR, TracedFunction

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
        resolved: set[str] = set()
        for klass in type(obj).__mro__:  # most derived first: the method an instance really calls
            for attr, val in vars(klass).items():
                if isinstance(val, TracedFunction) and val.code is not None:
                    name = attr if attr not in resolved else f"{klass.__name__}.{attr}"
                    resolved.add(attr)
                    yield from _walk(val.for_instance(obj).code, f"{prefix}{name}.code", seen, visiting)
        for attr, val in vars(obj).items():
            if attr != METHODS_ATTR:
                yield from _walk(val, f"{prefix}{attr}.", seen, visiting)
    elif isinstance(obj, (list, tuple)):
        for i, val in enumerate(obj):
            yield from _walk(val, f"{prefix}{i}.", seen, visiting)
    elif isinstance(obj, dict):
        for key, val in obj.items():
            yield from _walk(val, f"{prefix}{key}.", seen, visiting)
    visiting.discard(id(obj))
