"""DRAFT: tool documentation refined by exploration (explorer, analyzer, rewriter)."""

from undertow.optimizers.draft.draft import DRAFT, change, parse_doc, parse_probes

__all__ = ["DRAFT", "change", "parse_doc", "parse_probes"]
