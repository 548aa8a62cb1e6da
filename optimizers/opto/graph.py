"""The subgraphs parameters received, gathered into one named, ordered view for a report.

`GraphView.build(feedbacks, names)` merges the `SubgraphFeedback` of several
parameters (and several `backward` calls): it orders the nodes, gives each one a
short Python-like name that does not depend on global node ids (`mul_0`, `llm_3`),
and sorts them into trainable variables, inputs (nodes outside the subgraphs that
feed into it), operator calls, and outputs with their feedback. Rendering is in
`report.py`.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import ErrorNode, Node, Parameter, SubgraphFeedback
from undertow.engine.propagators.subgraph import SubgraphIndex

_IDENT = re.compile(r"[^0-9a-zA-Z_]+")
_BY_ID = operator.attrgetter("id")


@dataclass
class Output:
    """One output node, its feedback (joined when several calls gave some), its inputs."""

    node: Node
    feedback: list[Any]
    inputs: list[Node]
    literals: list[Any]


@dataclass
class GraphView:
    """What a report shows, before rendering.

    Attributes:
        variables: the trainable parameters that received feedback, in order.
        names: report name of every shown node, by `id(node)`.
        inputs: nodes feeding the subgraphs from outside (leaves and fixed values).
        calls: the operator nodes of the subgraphs, in topological order.
        outputs: the outputs with their feedback.
    """

    variables: list[Parameter]
    names: dict[int, str]
    inputs: list[Node]
    calls: list[Node]
    outputs: list[Output] = field(default_factory=list)

    def name(self, node: Node) -> str:
        return self.names[id(node)]

    @classmethod
    def build(cls, feedbacks: Sequence[SubgraphFeedback], var_names: dict[int, str]) -> GraphView:
        """Merge `feedbacks`; `var_names` gives each trainable parameter its report name."""
        members: dict[int, Node] = {}
        variables: dict[int, Parameter] = {}
        out_fb: dict[int, tuple[Node, list[Any]]] = {}
        # Feedback from one backward call shares one index: its union is one linear walk
        # (merging per-parameter node lists would cost O(parameters x nodes)).
        by_index: dict[int, tuple[SubgraphIndex, list[Parameter]]] = {}
        for fb in feedbacks:
            variables.setdefault(id(fb.parameter), fb.parameter)
            by_index.setdefault(id(fb.index), (fb.index, []))[1].append(fb.parameter)
        for index, params in by_index.values():
            if members:
                for n in index.union(params):
                    members.setdefault(id(n), n)
            else:
                members = {id(n): n for n in index.union(params)}
            for k in index.reached(params):
                o, f = index.outputs[k], index.feedback[k]
                entry = out_fb.setdefault(id(o), (o, []))
                if not any(f is g or _same(f, g) for g in entry[1]):
                    entry[1].append(f)
        # Node ids grow with creation and a node is made after its parents: id order
        # is a topological order.
        nodes = sorted(members.values(), key=_BY_ID)
        calls: list[Node] = []
        fixed: list[Node] = []  # parameters in a subgraph that are not being optimized
        for n in nodes:
            if isinstance(n, Parameter):
                if id(n) not in variables:
                    fixed.append(n)
            elif n.op is not None:
                calls.append(n)
        inputs: dict[int, Node] = {}
        for n in calls:
            for p in n.parents:
                if id(p) not in members and id(p) not in variables:
                    inputs.setdefault(id(p), p)
        for n in fixed:
            inputs.setdefault(id(n), n)
        ordered_inputs = sorted(inputs.values(), key=_BY_ID)
        names = _name_nodes(list(variables.values()), var_names, ordered_inputs, calls)
        view = cls(list(variables.values()), names, ordered_inputs, calls)
        outs = sorted(out_fb.values(), key=lambda e: e[0].id)
        reach = _output_inputs([o for o, _ in outs], calls, inputs)
        view.outputs = [Output(o, fbs, *reach[id(o)]) for o, fbs in outs]
        return view


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - user values may refuse comparison (arrays...)
        return False


@functools.lru_cache(maxsize=4096)  # op names repeat on every call node of a report
def ident(text: str) -> str:
    """`text` as an identifier: `mul:3` -> `mul_3`, `my prompt` -> `my_prompt`."""
    s = _IDENT.sub("_", text).strip("_") or "node"
    return f"_{s}" if s[0].isdigit() else s


def _name_nodes(variables: list[Parameter], var_names: dict[int, str], inputs: list[Node],
                calls: list[Node]) -> dict[int, str]:
    names: dict[int, str] = {}
    used: set[str] = set()
    counters: dict[str, int] = {}

    def claim(node: Node, base: str, numbered: bool) -> None:
        if numbered:
            k = counters.get(base, 0)
            while f"{base}_{k}" in used:
                k += 1
            counters[base] = k + 1
            name = f"{base}_{k}"
        else:
            name, k = base, 1
            while name in used:
                name, k = f"{base}_{k}", k + 1
        used.add(name)
        names[id(node)] = name

    for v in variables:
        base = var_names.get(id(v)) or ident(v.name or "param")
        if base in used:
            claim(v, base, False)
        else:  # the usual case, inline (a report names every node of its graph)
            used.add(base)
            names[id(v)] = base
    for n in inputs:
        if n.name is not None:
            claim(n, ident(n.name), False)
        else:
            claim(n, ident(n.op.name) if n.op is not None else "input", True)
    for n in calls:
        if n.name is not None:
            claim(n, ident(n.name), False)
            continue
        base = ident(n.op.name)
        k = counters.get(base, 0)
        name = f"{base}_{k}"
        if name in used:
            claim(n, base, True)
        else:  # the usual case, inline
            counters[base] = k + 1
            used.add(name)
            names[id(n)] = name
    return names


#: At most this many inputs and literals are listed for one output.
MAX_OUTPUT_INPUTS = 8


def _output_inputs(outs: list[Node], calls: list[Node], inputs: dict[int, Node]
                   ) -> dict[int, tuple[list[Node], list[Any]]]:
    """For each output: the outside inputs and plain positional literals that reach it
    through the subgraph (at most `MAX_OUTPUT_INPUTS` of each).

    One pass in topological order, each node merging its parents' capped lists: linear
    in the subgraph, where a walk per output would be quadratic on a long chain.
    """
    if not inputs and all(isinstance(a, Node) for n in calls for a in n.args):
        return {id(o): ([], []) for o in outs}  # nothing from outside: every list is empty
    k = MAX_OUTPUT_INPUTS
    reach: dict[int, tuple[list[Node], list[Any]]] = {}
    for n in calls:
        nodes: list[Node] = []
        lits: list[Any] = []
        for p in n.parents:
            if len(nodes) >= k and len(lits) >= k:
                break  # both lists full (the usual case deep in a long chain)
            if id(p) in inputs:
                if len(nodes) < k and all(p is not q for q in nodes):
                    nodes.append(p)
            elif id(p) in reach:
                pn, pl = reach[id(p)]
                if not nodes:
                    nodes = pn[:k]
                elif len(nodes) < k:
                    nodes += [q for q in pn if all(q is not r for r in nodes)][:k - len(nodes)]
                if not lits:
                    lits = pl[:k]
                elif len(lits) < k:
                    lits += [x for x in pl if x not in lits][:k - len(lits)]
        for a in n.args:  # positional literals are the data; keywords are settings
            if not isinstance(a, Node) and isinstance(a, (str, int, float)) and \
                    not isinstance(a, bool) and a not in lits and len(lits) < k:
                lits.append(a)
        reach[id(n)] = (nodes, lits)
    return {id(o): reach.get(id(o), ([], [])) for o in outs}


def is_error(node: Node) -> bool:
    return isinstance(node, ErrorNode)
