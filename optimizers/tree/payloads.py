"""Host-side payloads of tree nodes (prompt text, trace, cost ...), keyed by node.

Kernels only see numbers; what a node *means* stays here, in Python objects on the
host, so the device store never holds anything but arrays. An optimizer writes a
payload when it expands a node and reads it back for the nodes a kernel selects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class PayloadTable:
    """A mapping ``(tree, node) -> payload`` for a batch of ``batch`` trees."""

    def __init__(self, batch: int) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self._trees: list[dict[int, Any]] = [{} for _ in range(batch)]

    def _tree(self, tree: int) -> dict[int, Any]:
        if not 0 <= tree < len(self._trees):
            raise IndexError(f"tree {tree} out of range for a batch of {len(self._trees)}")
        return self._trees[tree]

    def __setitem__(self, key: tuple[int, int], payload: Any) -> None:
        tree, node = key
        self._tree(int(tree))[int(node)] = payload

    def __getitem__(self, key: tuple[int, int]) -> Any:
        tree, node = key
        try:
            return self._tree(int(tree))[int(node)]
        except KeyError:
            raise KeyError(f"no payload for node {node} of tree {tree}; set it when the "
                           "node is created (table[tree, node] = payload)") from None

    def get(self, tree: int, node: int, default: Any = None) -> Any:
        """The payload of ``node`` in ``tree``, or ``default``."""
        return self._tree(int(tree)).get(int(node), default)

    def __contains__(self, key: tuple[int, int]) -> bool:
        tree, node = key
        return int(node) in self._tree(int(tree))

    def set_children(self, tree: int, first_child: int, payloads: list[Any]) -> None:
        """Store the payloads of contiguous children ``first_child, first_child+1, ...``."""
        slot = self._tree(int(tree))
        for offset, payload in enumerate(payloads):
            slot[int(first_child) + offset] = payload

    def tree_items(self, tree: int) -> Iterator[tuple[int, Any]]:
        """``(node, payload)`` pairs of one tree, in node order."""
        return iter(sorted(self._tree(int(tree)).items()))

    def __len__(self) -> int:
        return sum(len(t) for t in self._trees)
