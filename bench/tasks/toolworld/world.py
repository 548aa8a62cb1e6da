"""`ToolWorld`: the bundled tools, their (flawed) docs, planted flaws and tasks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from undertow.bench.tasks.toolworld import calc as calc_mod
from undertow.bench.tasks.toolworld import calendar as cal_mod
from undertow.bench.tasks.toolworld import convert as conv_mod
from undertow.bench.tasks.toolworld import kv as kv_mod
from undertow.bench.tasks.toolworld.base import PlantedFlaw, Tool, ToolError, ToolTask
from undertow.bench.tasks.toolworld.flaws import FLAWS
from undertow.bench.tasks.toolworld.tasks import check_answer, make_tasks
from undertow.engine import Op
from undertow.engine.op import apply


def _run(tools: dict[str, Tool], tool: str, args: str) -> str:
    """One tool call as an observation: the result, or `Error E_xxx: ...`."""
    found = tools.get(str(tool))
    if found is None:
        return f"Error E_TOOL: no tool named {tool!r}; available: {', '.join(sorted(tools))}"
    try:
        return found.call(str(args))
    except ToolError as exc:
        return exc.observation()


class ToolWorld:
    """Deterministic local tools with shipped docs that are wrong in planted ways.

    `call` is an engine operator: with a traced argument (a `Node`) it records a node
    named `tool:<name>`, so tool calls are nodes of the agent's graph.
    """

    def __init__(self, tools: dict[str, Tool], flaws: tuple[PlantedFlaw, ...], seed: int,
                 kv: kv_mod.KVStore) -> None:
        self.tools = dict(tools)
        self.flaws = flaws
        self.seed = seed
        self._kv = kv
        self._ops: dict[str, Op] = {}

    def __repr__(self) -> str:
        return f"ToolWorld(seed={self.seed}, tools={sorted(self.tools)}, flaws={len(self.flaws)})"

    def docs(self) -> dict[str, str]:
        """Tool name -> its current documentation."""
        return {name: tool.doc for name, tool in self.tools.items()}

    def true_docs(self) -> dict[str, str]:
        """Tool name -> documentation of what it really does (for tests and upper bounds)."""
        return {name: tool.true_doc for name, tool in self.tools.items()}

    def with_docs(self, docs: dict[str, str]) -> ToolWorld:
        """The same world with some tools' docs replaced (unknown names are an error)."""
        unknown = sorted(set(docs) - set(self.tools))
        if unknown:
            raise KeyError(f"no tools named {unknown}; the world has {sorted(self.tools)}")
        tools = {n: dataclasses.replace(t, doc=docs.get(n, t.doc)) for n, t in self.tools.items()}
        return ToolWorld(tools, self.flaws, self.seed, self._kv)

    def _op(self, tool: str) -> Op:
        op = self._ops.get(tool)
        if op is None:
            tools = self.tools
            op = Op(f"tool:{tool}", lambda args, _t=tool: _run(tools, _t, args),
                    doc=(tools[tool].doc if tool in tools else f"unknown tool {tool!r}"))
            self._ops[tool] = op
        return op

    def call(self, tool: str, args: Any) -> Any:
        """Call `tool` on `args`; errors come back as `Error E_xxx: ...` observations.

        With `args` a traced node the call is recorded as an operator node.
        """
        return apply(self._op(str(tool)), (args,))

    def callables(self) -> dict[str, Callable[[str], str]]:
        """name -> callable(str) for agents that take plain tools (docstring = doc)."""
        out = {}
        for name, tool in self.tools.items():
            def fn(args: str, _n: str = name) -> str:
                return _run(self.tools, _n, args)
            fn.__doc__ = tool.doc
            out[name] = fn
        return out

    def tasks(self, seed: int, n: int) -> list[ToolTask]:
        """`n` seeded tasks needing 2-4 calls each (deterministic in world seed and `seed`)."""
        return make_tasks(self.seed, seed, n, self._kv)

    def check(self, task: ToolTask, answer: str) -> float:
        """1.0 when `answer` is the task's answer (tolerant of formatting), else 0.0."""
        return check_answer(task.answer, answer)

    def flaws_found(self, docs: dict[str, str] | None = None) -> list[str]:
        """Ids of the planted flaws whose truth `docs` (default: the current docs) state."""
        docs = self.docs() if docs is None else docs
        return [f.id for f in self.flaws if f.found(docs.get(f.tool, ""))]


def make_world(seed: int = 0) -> ToolWorld:
    """The bundled world: calc, convert, calendar and kv (kv contents depend on `seed`)."""
    kv = kv_mod.KVStore(kv_mod.make_data(seed))
    tools = {
        "calc": Tool("calc", calc_mod.DOC, calc_mod.TRUE_DOC, calc_mod.calc),
        "convert": Tool("convert", conv_mod.DOC, conv_mod.TRUE_DOC, conv_mod.convert),
        "calendar": Tool("calendar", cal_mod.DOC, cal_mod.TRUE_DOC, cal_mod.calendar),
        "kv": Tool("kv", kv_mod.DOC, kv_mod.TRUE_DOC, kv),
    }
    return ToolWorld(tools, FLAWS, seed, kv)
