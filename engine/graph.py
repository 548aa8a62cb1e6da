"""Graph traversal over parent pointers, without recursion (graphs can be 10^5+ deep)."""

from __future__ import annotations

from collections.abc import Iterable

from undertow.engine.node import Node


def topological(outputs: Iterable[Node]) -> list[Node]:
    """Every ancestor of `outputs` (themselves included), parents before children.

    Iterative depth-first post-order: O(nodes + edges), safe for very deep chains.
    The stack keeps nodes and their next-parent index in two parallel lists, so the
    walk allocates nothing per step.
    """
    order: list[Node] = []
    seen: set[int] = set()
    nodes: list[Node] = []
    index: list[int] = []
    for root in outputs:
        if id(root) in seen:
            continue
        seen.add(id(root))
        nodes.append(root)
        index.append(0)
        while nodes:
            node = nodes[-1]
            i = index[-1]
            parents = node.parents
            if i < len(parents):
                index[-1] = i + 1
                p = parents[i]
                if id(p) not in seen:
                    seen.add(id(p))
                    nodes.append(p)
                    index.append(0)
            else:
                nodes.pop()
                index.pop()
                order.append(node)
    return order


def children_index(order: list[Node]) -> dict[int, list[Node]]:
    """For nodes in `order`, the children of each node (by id) within `order`."""
    children: dict[int, list[Node]] = {}
    for node in order:
        for p in node.parents:
            children.setdefault(id(p), []).append(node)
    return children


def reachable(start: Node, children: dict[int, list[Node]]) -> set[int]:
    """Ids of `start` and every node reachable from it through `children`."""
    seen = {id(start)}
    stack = [start]
    while stack:
        for c in children.get(id(stack.pop()), ()):
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return seen


def graph_labels(order: Iterable[Node]) -> dict[int, str]:
    """Readable, unique labels for the nodes of one graph, keyed by `id(node)`.

    A named node keeps its name; an unnamed one is `<op>:<k>` (`param:<k>` for a
    parameter, `const:<k>` for a constant), `k` counting the unnamed nodes of that
    kind in `order`. The labels depend only on the graph (pass `topological(outputs)`),
    never on how many nodes the process made before, so the requests built from them
    (TextGrad critiques, reports, DOT) are the same in every process and after a resume.
    A name used twice gets `#2`, `#3`... for the later ones.
    """
    labels: dict[int, str] = {}
    counts: dict[str, int] = {}
    taken: set[str] = set()
    for node in order:
        if id(node) in labels:
            continue
        if node.name is not None:
            base = node.name
            label, k = base, 1
            while label in taken:
                k += 1
                label = f"{base}#{k}"
        else:
            kind = node.op.name if node.op is not None else ("param" if _is_param(node) else "const")
            k = counts.get(kind, 0)
            label = f"{kind}:{k}"
            while label in taken:
                k += 1
                label = f"{kind}:{k}"
            counts[kind] = k + 1
        taken.add(label)
        labels[id(node)] = label
    return labels


def _is_param(node: Node) -> bool:
    from undertow.engine.params import Parameter

    return isinstance(node, Parameter)
