"""OptoPrime and its parts: the graph view, the debugging report, the reply parser.

    from undertow.optimizers.opto import OptoPrime
    opt = OptoPrime([prompt], make_llm("sim", cache_dir=False))
"""

from undertow.optimizers.opto.blocks import Block
from undertow.optimizers.opto.graph import GraphView
from undertow.optimizers.opto.optoprime import REPLY_ENTRY, OptoPrime
from undertow.optimizers.opto.parse import (
    ParsedReply,
    SuggestionError,
    coerce,
    match_name,
    parse_reply,
)
from undertow.optimizers.opto.report import (
    SECTIONS,
    Report,
    estimate_tokens,
    render_report,
)
from undertow.optimizers.opto.tokens import TokenCounter, token_counter

__all__ = ["REPLY_ENTRY", "SECTIONS", "Block", "GraphView", "OptoPrime", "ParsedReply", "Report",
           "SuggestionError", "TokenCounter", "coerce", "estimate_tokens", "match_name", "parse_reply",
           "render_report", "token_counter"]
