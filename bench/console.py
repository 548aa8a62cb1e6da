"""The console the commands print to."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console


def cli_console(**kwargs: Any) -> Console:
    """A rich console for a command's output on stdout. Piped or logged (stdout not a
    terminal) it is 200 columns wide, not rich's 80, so that tables keep whole names and
    figures; `COLUMNS` or an explicit `width` still decide. Only this console: error
    panels on a terminal's stderr keep the terminal's width, and nothing is exported to
    child processes."""
    if "width" not in kwargs and "COLUMNS" not in os.environ and not sys.stdout.isatty():
        kwargs["width"] = 200
    return Console(**kwargs)
