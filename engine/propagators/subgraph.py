"""OPTO / Trace semantics: each parameter sees the minimal subgraph to the outputs.

For a parameter p and outputs O, the subgraph is p, its descendants that are
ancestors of some output, and the outputs p influenced — exactly
`descendants(p) ∩ ancestors(O)` plus those outputs, in networkx terms — together
with the feedback on those outputs. One pass computes the ancestors of all outputs
and a child index (linear in the graph), then each parameter walks forward inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from undertow.engine.graph import children_index, graph_labels, reachable, topological
from undertow.engine.node import Node
from undertow.engine.params import Parameter
from undertow.engine.propagators.base import Propagator

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class SubgraphFeedback:
    """What one parameter receives from one `backward` call.

    Attributes:
        parameter: the parameter.
        nodes: the subgraph's nodes in topological order (parents first); the first
            is the parameter itself.
        outputs: the outputs this parameter influenced.
        feedback: the feedback on each of those outputs, aligned with `outputs`.
    """

    parameter: Parameter
    nodes: list[Node]
    outputs: list[Node]
    feedback: list[Any]

    def to_networkx(self) -> nx.DiGraph:
        """The subgraph as a networkx DiGraph keyed by node labels."""
        import networkx as nx

        labels = graph_labels(self.nodes)
        g = nx.DiGraph()
        for n in self.nodes:
            g.add_node(labels[id(n)], value=n.value)
            for p in n.parents:
                if id(p) in labels:
                    g.add_edge(labels[id(p)], labels[id(n)])
        return g


class SubgraphPropagator(Propagator):
    """Deliver to each parameter the subgraph linking it to the outputs it influenced.

    Two equivalent strategies: with few parameters, one forward scan of the
    topological order per parameter (a node is in the subgraph when one of its
    parents is) touches a single set and streams through the order; with many
    parameters, a child index lets each one walk only its own subgraph.
    `scan_limit` picks between them.
    """

    name = "subgraph"
    scan_limit = 16

    def propagate(self, outputs: Sequence[Node], feedback: Sequence[Any]) -> list[Node]:
        order = topological(outputs)
        params = [n for n in order if isinstance(n, Parameter)]
        if len(params) <= self.scan_limit:
            subgraphs = [_scan(p, order, order.index(p)) for p in params]
        else:
            children = children_index(order)
            position = {id(n): i for i, n in enumerate(order)}
            subgraphs = []
            for p in params:
                ids = reachable(p, children)
                subgraphs.append((ids, _in_order(ids, order, position[id(p)])))
        for param, (ids, nodes) in zip(params, subgraphs):
            hit = [(o, f) for o, f in zip(outputs, feedback) if id(o) in ids]
            param.feedback.append(SubgraphFeedback(param, nodes, [o for o, _ in hit], [f for _, f in hit]))
        return params


def _scan(param: Parameter, order: list[Node], start: int) -> tuple[set[int], list[Node]]:
    """Ids and topologically ordered nodes of `param` and everything downstream of it."""
    ids = {id(param)}
    nodes: list[Node] = [param]
    for i in range(start + 1, len(order)):
        n = order[i]
        for q in n.parents:
            if id(q) in ids:
                ids.add(id(n))
                nodes.append(n)
                break
    return ids, nodes


def _in_order(ids: set[int], order: list[Node], start: int) -> list[Node]:
    """The nodes whose ids are in `ids`, in topological order.

    Descendants of a node come after it in a topological order, so the scan starts
    at the parameter and stops as soon as every member is found.
    """
    nodes: list[Node] = []
    want = len(ids)
    for i in range(start, len(order)):
        n = order[i]
        if id(n) in ids:
            nodes.append(n)
            if len(nodes) == want:
                break
    return nodes
