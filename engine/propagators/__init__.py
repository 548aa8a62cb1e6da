"""Pluggable feedback propagators used by `backward()`.

A propagator receives the outputs with one feedback each and delivers what every
parameter upstream should see: a subgraph with the feedback on it (`subgraph`),
a true gradient (`numeric`), or an LLM-written critique (`textual`, with the LLM
layer).
"""

from undertow.engine.propagators.base import Propagator
from undertow.engine.propagators.numeric import NumericPropagator
from undertow.engine.propagators.subgraph import SubgraphFeedback, SubgraphIndex, SubgraphPropagator
from undertow.engine.propagators.textual import TextualFeedback, TextualPropagator

__all__ = ["NumericPropagator", "Propagator", "SubgraphFeedback", "SubgraphIndex", "SubgraphPropagator", "TextualFeedback",
           "TextualPropagator"]
