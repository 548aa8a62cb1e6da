"""LLM layer of the engine: clients, the simulated LLM and its HTTP server."""
