"""Bundled tasks: seeded splits, metrics, feedback, and profiles for the simulated LLM."""
