"""Bridges between undertow and the frameworks its users already have.

`undertow.interop.dspy` (extra `[dspy]`) optimizes a DSPy program's instructions and
demos with any undertow optimizer. Each bridge imports its framework only when used.
"""
