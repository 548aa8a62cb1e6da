"""`python -m undertow.bench.sim.server`: see `main.py`."""

from .main import main

main()
