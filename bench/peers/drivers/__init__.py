"""Driver scripts run with a peer venv's python (not imported by undertow itself)."""
