"""TextGrad semantics: an LLM writes a critique for each edge, outputs to parameters.

Only nodes on a path from a parameter to an output take part. Nodes are grouped in
levels by their longest distance from the outputs; all the critiques of one level are
independent of each other, so they are requested together (`complete_many`, bounded
concurrency), and levels run in order. A node's feedback is the feedback on it (for
an output) or the critiques its children wrote about it; a parameter receives a
`TextualFeedback` holding the critiques written about it.

The critique request follows the request convention of docs/sim.md (a
`<variable>` block and an `<example>` with input, output and feedback), which real
models read as plain, well-labelled text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from undertow.engine.convention import variable_tag
from undertow.engine.graph import children_index, graph_labels, reachable, topological
from undertow.engine.node import Node
from undertow.engine.params import Parameter
from undertow.engine.propagators.base import Propagator
from undertow.engine.views import short

CRITIC_SYSTEM = (
    "You are a careful reviewer of a computation that an optimizer is improving. You "
    "give feedback on one variable at a time: how it should change so that the final "
    "output gets better. Be specific and brief."
)


@dataclass(frozen=True)
class TextualFeedback:
    """What one parameter receives from the textual propagator in one `backward`.

    Attributes:
        parameter: the parameter.
        critiques: the critiques written about it, one per edge to a child.
        outputs: the outputs it influenced, and `feedback` the feedback on them.
    """

    parameter: Parameter
    critiques: list[str]
    outputs: list[Node]
    feedback: list[Any]


def critique_request(parent: Node, child: Node, feedback: list[str], max_chars: int,
                     name: str | None = None) -> list[dict[str, str]]:
    """The messages asking for feedback on `parent` given the feedback on `child`.

    `name` is the parent's label within its graph (`graph_labels`); it defaults to
    `parent.label`, which for an unnamed node holds a process-wide id.
    """
    name = name if name is not None else parent.label
    kind = parent.kind if isinstance(parent, Parameter) else "intermediate"
    others = [a for a in child.args if a is not parent and (isinstance(a, Node) or isinstance(a, str))]
    if not others:  # an intermediate fed alone (a reply into a parser): show what it was computed from
        others = source_inputs(parent)
    inputs = "\n".join(short(a.value if isinstance(a, Node) else a, max_chars) for a in others)
    op = child.op
    desc = f"{op.name}: {op.doc}" if op is not None and op.doc else (op.name if op is not None else "?")
    body = (
        f"{variable_tag(name, kind, short(parent.value, max_chars))}\n"
        f"The variable {name} was an input of the operation `{desc}`.\n"
        f"<example>\n<input>{inputs}</input>\n<output>{short(child.value, max_chars)}</output>\n"
        f"<feedback>{' '.join(feedback)}</feedback>\n</example>\n"
        f"Critique the variable {name}: explain how it should change so that the output improves. "
        "Reply with the critique only."
    )
    return [{"role": "system", "content": CRITIC_SYSTEM}, {"role": "user", "content": body}]


def source_inputs(node: Node) -> list[Any]:
    """The data `node` was computed from (leaves that are not parameters, and plain
    strings passed to its ancestors, such as the task item an LLM call answered), in
    graph order; empty for a leaf."""
    if not node.parents:
        return []
    found: list[Any] = []
    for a in topological([node]):
        if a is not node and not a.parents and not isinstance(a, Parameter):
            found.append(a)
        elif a.parents or a is node:
            found += [x for x in a.args if isinstance(x, str) and x.strip()]
    return found


class TextualPropagator(Propagator):
    """LLM-written critiques per edge, in reverse topological order, batched per level.

    Args:
        llm: an `undertow.engine.llm.LLM` (the critic).
        purpose: the accounting purpose of the critique calls.
        max_chars: longest value preview shown in a request.
    """

    name = "textual"

    def __init__(self, llm: Any, *, purpose: str = "optimizer", max_chars: int = 2000) -> None:
        self.llm = llm
        self.purpose = purpose
        self.max_chars = max_chars
        self.levels: list[int] = []  # number of critique calls per level, for inspection

    def propagate(self, outputs: Sequence[Node], feedback: Sequence[Any]) -> list[Node]:
        order = topological(outputs)
        labels = graph_labels(order)  # per-graph names: requests never depend on process history
        children = children_index(order)
        on_path: set[int] = set()
        for node in order:
            if isinstance(node, Parameter) and id(node) not in on_path:
                on_path |= reachable(node, children)
        grads: dict[int, list[str]] = {}
        for out, fb in zip(outputs, feedback):
            grads.setdefault(id(out), []).append(str(fb))
        level: dict[int, int] = {}
        for node in reversed(order):
            if id(node) not in on_path:
                continue
            kids = [level[id(c)] + 1 for c in children.get(id(node), ()) if id(c) in level]
            level[id(node)] = max(kids, default=0)
        by_level: dict[int, list[Node]] = {}
        for node in order:
            if id(node) in level and node.parents:
                by_level.setdefault(level[id(node)], []).append(node)
        self.levels = []
        for lv in sorted(by_level):
            edges = [(p, n) for n in by_level[lv] if id(n) in grads for p in n.parents if id(p) in on_path]
            if not edges:
                continue
            prompts = [critique_request(p, n, grads[id(n)], self.max_chars, labels[id(p)]) for p, n in edges]
            replies = self.llm.complete_many(prompts, purpose=self.purpose)
            self.levels.append(len(edges))
            for (p, _), reply in zip(edges, replies):
                grads.setdefault(id(p), []).append(reply.text.strip())
        reached = []
        for node in order:
            if isinstance(node, Parameter) and id(node) in grads:
                ids = reachable(node, children)
                hit = [(o, f) for o, f in zip(outputs, feedback) if id(o) in ids]
                node.feedback.append(TextualFeedback(node, grads[id(node)], [o for o, _ in hit],
                                                     [f for _, f in hit]))
                reached.append(node)
        return reached
