"""The one error type the bench raises for mistakes a user makes.

Its message is a single line that names the problem and the fix; the CLI prints it
as it is, with no traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BenchError(ValueError):
    """A user-facing bench error (unknown name, bad budget, unwritable folder...)."""


def unknown(what: str, name: str, known: Iterable[str]) -> BenchError:
    """`unknown task 'x'; did you mean y?` with close matches, else the known names."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(names)}"
    return BenchError(f"unknown {what} {name!r}; {hint} (see `undertow bench list`)")
