"""Graph traversal over parent pointers, without recursion (graphs can be 10^5+ deep)."""

from __future__ import annotations

from collections.abc import Iterable

from undertow.engine.node import Node


def topological(outputs: Iterable[Node]) -> list[Node]:
    """Every ancestor of `outputs` (themselves included), parents before children.

    Iterative depth-first post-order: O(nodes + edges), safe for very deep chains.
    """
    order: list[Node] = []
    done: set[int] = set()
    for root in outputs:
        if id(root) in done:
            continue
        stack: list[tuple[Node, int]] = [(root, 0)]
        entered = {id(root)}
        while stack:
            node, i = stack[-1]
            parents = node.parents
            if i < len(parents):
                stack[-1] = (node, i + 1)
                p = parents[i]
                pid = id(p)
                if pid not in done and pid not in entered:
                    entered.add(pid)
                    stack.append((p, 0))
            else:
                stack.pop()
                done.add(id(node))
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
