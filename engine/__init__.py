"""undertow.engine: traced graphs, feedback propagation, parameters and modules.

    from undertow.engine import Parameter, op, backward

    prompt = Parameter("Answer briefly.", name="prompt")

    @op
    def ask(instruction: str, question: str) -> str:
        return f"{instruction}\\n{question}"

    out = ask(prompt, "What is 2 + 2?")
    backward(out, "The answer should end with the number alone.")
    prompt.feedback  # -> [SubgraphFeedback(...)]
"""

from undertow.engine.backward import backward
from undertow.engine.callbacks import Callback, CallbackList, LLMCallEvent, ProposalEvent, RunEvent, StepEvent
from undertow.engine.builtin_ops import cos, exp, log, sigmoid, sin, sqrt, square, tanh
from undertow.engine.context import Recorder, is_tracing, no_trace, record
from undertow.engine.errors import (
    ExecutionError,
    GraphError,
    GraphvizNotFoundError,
    HiddenDependencyError,
    InvalidValueError,
    StateError,
    UndertowError,
)
from undertow.engine.feedback import Feedback
from undertow.engine.graph import graph_labels, topological
from undertow.engine.module import Module
from undertow.engine.node import ErrorNode, Node, unwrap
from undertow.engine.notebook import Graph
from undertow.engine.op import Op
from undertow.engine.params import KINDS, Parameter
from undertow.engine.propagators import (
    NumericPropagator,
    Propagator,
    SubgraphFeedback,
    SubgraphPropagator,
    TextualFeedback,
    TextualPropagator,
)
from undertow.engine.sandbox import SandboxError, SandboxPool
from undertow.engine.tracing import TracedFunction, capture, op
from undertow.engine.views import render, render_dot, to_dot, to_mermaid, to_networkx

__all__ = [
    "Callback", "CallbackList", "LLMCallEvent", "ProposalEvent", "RunEvent", "StepEvent",
    "KINDS", "ErrorNode", "ExecutionError", "Feedback", "Graph", "GraphError", "GraphvizNotFoundError",
    "HiddenDependencyError", "InvalidValueError",
    "Module", "Node", "NumericPropagator", "Op", "Parameter", "Propagator", "Recorder", "SandboxError",
    "SandboxPool", "StateError",
    "SubgraphFeedback", "SubgraphPropagator", "TextualFeedback", "TextualPropagator", "TracedFunction", "UndertowError", "backward", "capture",
    "cos", "exp", "graph_labels", "is_tracing", "log", "no_trace", "op", "record", "render", "render_dot", "sigmoid", "sin", "sqrt",
    "square", "tanh", "to_dot", "to_mermaid", "to_networkx", "topological", "unwrap",
]
