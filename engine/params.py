"""Parameters: the nodes optimizers may change, with kinds and enforced constraints.

Every write goes through `Parameter.set` (also `param.value = v`), which validates
the value against the parameter's kind and constraints and raises
`InvalidValueError` — keeping the old value — when it does not fit. Constraints are
therefore facts about the value, not hints in a prompt.

Kinds: `text` (a prompt or any string), `code` (Python source of a function whose
signature is fixed), `float`, `int`, `choice`, `json` (validated by a pydantic
schema, stored as plain JSON data).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from undertow.engine.code import check_code
from undertow.engine.context import STATE
from undertow.engine.context import read_in_body as _read_in_body
from undertow.engine.errors import InvalidValueError
from undertow.engine.node import Node, _ids

Kind = Literal["text", "code", "float", "int", "choice", "json"]
KINDS: tuple[str, ...] = ("text", "code", "float", "int", "choice", "json")

_STATE_get = STATE.get
_slot_set = Node._value.__set__  # type: ignore[attr-defined]


class Parameter(Node):
    """A trainable value: a node with a kind, a description and enforced constraints.

    Args:
        value: the initial value (validated like any later one).
        kind: one of `KINDS`; when omitted, "choice" if `choices` is given, "json" if
            `schema` is, else inferred from the value (str -> text, float -> float,
            int -> int, dict/list -> json). A constraint the kind does not check
            (`bounds` on text, `choices` on a float, ...) is refused with a ValueError.
        name: a readable name shown to optimizers.
        description: what the parameter is for, shown to optimizers.
        bounds: (low, high) inclusive, for float and int; either side may be None.
        choices: the allowed values, for choice.
        schema: a pydantic model or any type pydantic can validate, for json.
        max_length: the longest allowed text or code, in characters.
        signature_of: for code, the source whose function name and signature every
            value must keep (defaults to the initial value).
    """

    __slots__ = ("kind", "description", "bounds", "choices", "schema", "max_length",
                 "signature", "version", "feedback", "grad", "_adapter")

    def __init__(
        self,
        value: Any,
        kind: Kind | None = None,
        *,
        name: str | None = None,
        description: str = "",
        bounds: tuple[float | None, float | None] | None = None,
        choices: Sequence[Any] | None = None,
        schema: Any = None,
        max_length: int | None = None,
        signature_of: str | None = None,
    ) -> None:
        if kind is None:  # choices and a schema say the kind; else the value does
            kind = "choice" if choices is not None else "json" if schema is not None else _infer_kind(value)
        if kind not in KINDS:
            raise ValueError(f"unknown parameter kind {kind!r}; use one of {', '.join(KINDS)}")
        _check_constraint_kinds(name, kind, bounds=bounds, choices=choices, schema=schema,
                                max_length=max_length, signature_of=signature_of)
        # Node.__init__ would assign `value` through the validating property.
        _slot_set(self, None)
        self.parents, self.op, self.args, self.kwargs = (), None, (), None
        self.id, self.name = next(_ids), name
        self.kind = kind
        self.description = description
        self.bounds = tuple(bounds) if bounds is not None else None
        self.choices = list(choices) if choices is not None else None
        self.schema = schema
        self.max_length = max_length
        self.signature = None
        self.version = 0
        self.feedback: list[Any] = []
        self.grad: float | None = None
        self._adapter = TypeAdapter(schema) if schema is not None else None
        if kind == "choice" and self.choices is None and isinstance(value, bool):
            self.choices = [False, True]
        if kind == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.label!r} needs a non-empty `choices` list")
        if kind == "code":
            from undertow.engine.code import signature_key

            self.signature = signature_key(signature_of if signature_of is not None else value,
                                           where=f"parameter {self.label!r}")
        self.set(value)

    @property
    def label(self) -> str:
        return self.name if self.name is not None else f"param:{self.id}"

    @property
    def value(self) -> Any:  # type: ignore[override]
        """The current value (read inside an op body that was not given this parameter,
        it raises `HiddenDependencyError`, see `Node.value`)."""
        state = _STATE_get()
        if state.body is not None:
            _read_in_body(state, self)
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        self.set(new)

    def set(self, new: Any) -> None:
        """Validate `new` and make it the value; on failure raise and keep the old value."""
        _slot_set(self, self.validate(new))
        self.version += 1

    def validate(self, new: Any) -> Any:
        """The value `new` would be stored as, or `InvalidValueError`. Changes nothing."""
        return _VALIDATORS[self.kind](self, new)

    def zero_feedback(self) -> None:
        """Forget the feedback and gradient received so far."""
        self.feedback.clear()
        self.grad = None

    def constraints(self) -> dict[str, Any]:
        """The constraints as plain data (for reports and saved files)."""
        out: dict[str, Any] = {}
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
        if self.choices is not None:
            out["choices"] = self.choices
        if self.max_length is not None:
            out["max_length"] = self.max_length
        if self._adapter is not None:
            out["schema"] = self._adapter.json_schema()
        if self.signature is not None:
            out["signature"] = self.signature
        return out

    def _invalid(self, problem: str, fix: str) -> InvalidValueError:
        return InvalidValueError(self.label, self.kind, problem, fix)


#: The kinds each constraint applies to: given to another kind it would never be checked.
_CONSTRAINT_KINDS = {"bounds": ("float", "int"), "choices": ("choice",), "schema": ("json",),
                     "max_length": ("text", "code"), "signature_of": ("code",)}


def _check_constraint_kinds(name: str | None, kind: str, **given: Any) -> None:
    """Refuse a constraint the kind does not check (`bounds` on text, `choices` on a
    float...): silently kept, it would be shown to optimizers and never enforced."""
    for key, value in given.items():
        if value is not None and kind not in _CONSTRAINT_KINDS[key]:
            fits = " or ".join(f"kind={k!r}" for k in _CONSTRAINT_KINDS[key])
            raise ValueError(
                f"parameter {name or '(unnamed)'!r} of kind {kind!r} got {key}=, which only {fits} "
                f"checks: drop {key}=, or make it a parameter of that kind ({fits})")


def _infer_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "choice"
    if isinstance(value, str):
        return "text"
    if isinstance(value, float):
        return "float"
    if isinstance(value, int):
        return "int"
    if isinstance(value, (dict, list)):
        return "json"
    raise ValueError(
        f"cannot infer a parameter kind from a {type(value).__name__}; pass kind= (one of {', '.join(KINDS)})"
    )


def _check_length(p: Parameter, v: str) -> None:
    if p.max_length is not None and len(v) > p.max_length:
        raise p._invalid(f"{len(v)} characters exceed max_length={p.max_length}",
                         "shorten the value")


def _v_text(p: Parameter, v: Any) -> str:
    if not isinstance(v, str):
        raise p._invalid(f"expected a string, got {type(v).__name__}", "pass the text as a str")
    _check_length(p, v)
    return v


def _v_code(p: Parameter, v: Any) -> str:
    if not isinstance(v, str):
        raise p._invalid(f"expected Python source as a string, got {type(v).__name__}",
                         "pass the function's source code as a str")
    _check_length(p, v)
    problem = check_code(v, p.signature)
    if problem is not None:
        raise p._invalid(problem, "keep the function's name and parameters; change only its body")
    return v


def _check_bounds(p: Parameter, v: float) -> None:
    lo, hi = p.bounds if p.bounds is not None else (None, None)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise p._invalid(f"{v!r} is outside the bounds [{lo}, {hi}]", "pick a value inside the bounds")


def _v_float(p: Parameter, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise p._invalid(f"expected a number, got {type(v).__name__} {v!r}",
                         "pass an int or float (parse strings before setting)")
    v = float(v)
    if not math.isfinite(v):
        raise p._invalid(f"{v!r} is not finite", "pass a finite number")
    _check_bounds(p, v)
    return v


def _v_int(p: Parameter, v: Any) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise p._invalid(f"expected an integer, got {type(v).__name__} {v!r}",
                         "pass an int (a float is accepted only when it is a whole number)")
    _check_bounds(p, v)
    return v


def _v_choice(p: Parameter, v: Any) -> Any:
    choices = p.choices or []
    for c in choices:
        if c == v and type(c) is type(v):
            return c
    raise p._invalid(f"{v!r} is not one of the choices {choices!r}", "pick one of the listed choices")


def _v_json(p: Parameter, v: Any) -> Any:
    if p._adapter is None:
        try:
            import json

            return json.loads(json.dumps(v, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise p._invalid(f"not plain JSON data ({exc})",
                             "use dicts, lists, strings, finite numbers, booleans and None") from None
    try:
        parsed = p._adapter.validate_python(copy.deepcopy(v))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "value"
        raise p._invalid(f"schema check failed at {loc}: {first['msg']} ({exc.error_count()} error(s))",
                         "make the value match the parameter's schema") from None
    return p._adapter.dump_python(parsed, mode="json")


_VALIDATORS = {"text": _v_text, "code": _v_code, "float": _v_float, "int": _v_int,
               "choice": _v_choice, "json": _v_json}
