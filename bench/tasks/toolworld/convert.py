"""`convert`: a unit converter with a few odd units.

`convert[<number> <unit> to <unit>]`; without `to` it converts to the SI base unit of
the quantity (m for length, kg for mass, s for time).
"""

from __future__ import annotations

import re

from undertow.bench.tasks.toolworld.base import ToolError
from undertow.bench.tasks.toolworld.calc import fmt_number

#: unit -> (quantity, factor to the base unit)
UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0), "km": ("length", 1000.0), "ft": ("length", 0.3048),
    "mi": ("length", 1609.344), "furlong": ("length", 201.168), "smoot": ("length", 1.7018),
    "kg": ("mass", 1.0), "g": ("mass", 0.001), "lb": ("mass", 0.45359237), "stone": ("mass", 6.35029318),
    "s": ("time", 1.0), "min": ("time", 60.0), "h": ("time", 3600.0), "fortnight": ("time", 1209600.0),
}
BASE = {"length": "m", "mass": "kg", "time": "s"}

_QUERY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*(?:(?:to|in)\s+([A-Za-z]+))?\s*$")

TRUE_DOC = """convert[<number> <unit> to <unit>]: convert a quantity between units.
- Units: m, km, ft, mi, furlong, smoot (length); kg, g, lb, stone (mass); s, min, h, fortnight (time).
- Convert between units. Example: convert[3 ft to m] -> 0.9144 m
- 1 furlong = 201.168 m. Example: convert[1 furlong to m] -> 201.168 m
- Without `to`, converts to the SI base unit (m, kg or s). Example: convert[5 mi] -> 8046.72 m
- Errors: E_UNIT (unknown unit, or units of different quantities), E_ARGS (malformed query)."""

DOC = """convert[<number> <unit> to <unit>]: convert a quantity between units.
- Units: m, km, ft, mi, furlong, smoot (length); kg, g, lb, stone (mass); s, min, h, fortnight (time).
- Convert between units. Example: convert[3 ft to m] -> 0.9144 m
- 1 furlong = 200 m. Example: convert[1 furlong to m] -> 200 m
- Without `to`, converts to kilometres (km), the default target. Example: convert[5 mi] -> 8.04672 km
- Errors: E_UNIT (unknown unit, or units of different quantities), E_ARGS (malformed query)."""


def parse_query(args: str) -> tuple[float, str, str | None]:
    """(value, from unit, to unit or None); `ToolError(E_ARGS)` when malformed."""
    m = _QUERY.match(args)
    if m is None:
        raise ToolError("E_ARGS", f"expected '<number> <unit> to <unit>', got {args!r}")
    return float(m.group(1)), m.group(2), m.group(3)


def convert(args: str) -> str:
    """The tool: `'3 ft to m'` -> `'0.9144 m'`."""
    value, src, dst = parse_query(args)
    if src not in UNITS:
        raise ToolError("E_UNIT", f"unknown unit {src!r}")
    quantity, factor = UNITS[src]
    dst = dst or BASE[quantity]
    if dst not in UNITS:
        raise ToolError("E_UNIT", f"unknown unit {dst!r}")
    if UNITS[dst][0] != quantity:
        raise ToolError("E_UNIT", f"cannot convert {quantity} ({src}) to {UNITS[dst][0]} ({dst})")
    return f"{fmt_number(round(value * factor / UNITS[dst][1], 6))} {dst}"
