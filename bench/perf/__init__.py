"""Performance suites behind `undertow perf ...`: each prints one JSON object.

Each suite is a module with a `run(...) -> dict` function; timings are taken side by
side with a baseline in the same process, so the ratios survive a noisy machine.
"""
