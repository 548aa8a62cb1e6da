"""The planted flaws of the shipped docs, each with the check that a doc states the truth.

A flaw counts as *found* by a refined doc when the doc states the true behaviour: the
true result of the probe that exposes it, or the true rule in words. The checks are
evidence for DRAFT's report; no model ever sees them.
"""

from __future__ import annotations

from undertow.bench.tasks.toolworld.base import PlantedFlaw

FLAWS: tuple[PlantedFlaw, ...] = (
    PlantedFlaw("calc", "calc-xor", "doc says ^ is a power; it is bitwise xor",
                "calc[2^3]", r"2\s*\^\s*3\]?\s*(->|=|gives|returns)\s*1\b|\bxor\b"),
    PlantedFlaw("calc", "calc-percent", "doc says % is the remainder; it is percent-of",
                "calc[50%8]", r"50\s*%\s*8\]?\s*(->|=|gives|returns)\s*4\b|percent"),
    PlantedFlaw("calc", "calc-div", "doc says / on integers rounds down; it rounds up",
                "calc[7/2]", r"7\s*/\s*2\]?\s*(->|=|gives|returns)\s*4\b|rounds? up"),
    PlantedFlaw("convert", "convert-furlong", "doc gives 1 furlong = 200 m; it is 201.168 m",
                "convert[1 furlong to m]", r"201\.168"),
    PlantedFlaw("convert", "convert-default", "doc says the default target is km; it is the SI base unit",
                "convert[5 mi]", r"5 mi\]?\s*(->|=|gives|returns)\s*8046\.72\s*m\b|base unit"),
    PlantedFlaw("calendar", "calendar-format", "doc says dates are DD/MM/YYYY; only YYYY-MM-DD is accepted",
                "calendar[weekday 05/03/2024]", r"YYYY-MM-DD|\[\w+ \d{4}-\d{2}-\d{2}"),
    PlantedFlaw("calendar", "calendar-weekstart", "doc says weeks start on Sunday; they start on Monday",
                "calendar[weekstart 06/03/2024]", r"starts? on Monday|2024-03-06\]?\s*(->|=)\s*2024-03-04"),
    PlantedFlaw("calendar", "calendar-holidays", "doc omits the holidays addbiz skips",
                "calendar[addbiz 24/12/2024 2]", r"holiday"),
    PlantedFlaw("kv", "kv-pagesize", "doc says 10 keys per page; a page holds 4",
                "kv[list demo/]", r"page_size\W{1,4}4\b|\b4 (keys )?per page"),
    PlantedFlaw("kv", "kv-cursor", "doc says pass page=2 for the next page; the API takes cursor=<next_cursor>",
                "kv[list demo/ page=2]", r"cursor="),
    PlantedFlaw("kv", "kv-nokey", "doc says a missing key gives null; it is error E_NOKEY",
                "kv[get demo/zz]", r"E_NOKEY"),
)
