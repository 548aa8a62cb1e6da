"""An LLM call inside traced code is an operator node like any other.

`llm_call(llm, user, system=...)` records one node whose parents are the prompt
pieces that are nodes (a system-prompt `Parameter`, a user message computed by
other traced code...), so feedback on the reply reaches the prompts that produced it.
The node's value is the reply text; `response_of(node)` gives the full `LLMResponse`
(usage, cost, cached flag) for as long as the node lives.
"""

from __future__ import annotations

import weakref
from typing import Any

from undertow.engine.context import STATE
from undertow.engine.errors import ExecutionError
from undertow.engine.node import Node
from undertow.engine.op import Op, error_node, make_node, unwrap_args

_RESPONSES: weakref.WeakKeyDictionary[Node, Any] = weakref.WeakKeyDictionary()

LLM_OP = Op(
    "llm",
    forward=None,  # type: ignore[arg-type]  # the call is made by llm_call/allm_call
    doc="An LLM call: the model's reply (text) to the system message and the user message.",
)


def _messages(system: Any, user: Any) -> list[dict[str, str]]:
    messages = []
    if system is not None and str(system) != "":
        messages.append({"role": "system", "content": str(system)})
    messages.append({"role": "user", "content": str(user)})
    return messages


def _record(args: tuple[Any, ...], kwargs: dict[str, Any], parents: list[Node], response: Any) -> Node:
    node = make_node(LLM_OP, response.text, args, kwargs, parents)
    _RESPONSES[node] = response
    return node


def llm_call(llm: Any, user: Any, *, system: Any = None, purpose: str = "forward", **params: Any) -> Any:
    """Ask `llm` (an `undertow.engine.llm.LLM`) and record the call as a node.

    `user` and `system` may be nodes or plain strings. Extra keyword arguments
    (temperature, max_tokens, schema, ...) go to `llm.complete`. With tracing off,
    returns the reply text. An LLM error becomes an error node (`ExecutionError`).
    """
    parents: list[Node] = []
    (raw_user, raw_system), _ = unwrap_args((user, system), None, parents)
    if not STATE.get().enabled:
        return llm.complete(_messages(raw_system, raw_user), purpose=purpose, **params).text
    args, kwargs = (llm, user), {"system": system, "purpose": purpose, **params}
    try:
        response = llm.complete(_messages(raw_system, raw_user), purpose=purpose, **params)
    except Exception as exc:
        raise ExecutionError(error_node(LLM_OP, args, kwargs, tuple(parents), exc)) from exc
    return _record(args, kwargs, parents, response)


async def allm_call(llm: Any, user: Any, *, system: Any = None, purpose: str = "forward", **params: Any) -> Any:
    """The async twin of `llm_call` (uses `llm.acomplete`)."""
    parents: list[Node] = []
    (raw_user, raw_system), _ = unwrap_args((user, system), None, parents)
    if not STATE.get().enabled:
        return (await llm.acomplete(_messages(raw_system, raw_user), purpose=purpose, **params)).text
    args, kwargs = (llm, user), {"system": system, "purpose": purpose, **params}
    try:
        response = await llm.acomplete(_messages(raw_system, raw_user), purpose=purpose, **params)
    except Exception as exc:
        raise ExecutionError(error_node(LLM_OP, args, kwargs, tuple(parents), exc)) from exc
    return _record(args, kwargs, parents, response)


def response_of(node: Node) -> Any:
    """The full `LLMResponse` (usage, cost, cached flag...) behind an `llm_call` node."""
    return _RESPONSES.get(node)
