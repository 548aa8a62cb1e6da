"""The `autolibra` bench task: a tool-using catalog agent with planted failure modes and a
simulated feedback writer (docs/metrics.md)."""
