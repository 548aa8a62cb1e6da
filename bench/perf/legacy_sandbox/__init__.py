"""The sandbox pool as it was before per-call children and isolation levels (issue #13).

Kept only as the baseline of `undertow perf sandbox`: one warm worker runs every call
in its own process, so calls share an address space and the reply channel with user
code. Never use it to run untrusted code; `undertow.engine.sandbox.SandboxPool`
replaces it.
"""
