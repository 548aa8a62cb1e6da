"""`python -m undertow.engine.llm.server`: see `main.py`."""

from .main import main

main()
