"""`calendar`: weekdays, week starts and business days (weekends and fixed holidays skipped).

Commands: `weekday <date>`, `weekstart <date>` (weeks start on Monday),
`addbiz <date> <n>` (n business days later, skipping Saturdays, Sundays and the
holidays Jan 1, Jul 4, Dec 25 and Dec 26). Dates are ISO `YYYY-MM-DD` only.
"""

from __future__ import annotations

import datetime as dt
import re

from undertow.bench.tasks.toolworld.base import ToolError

HOLIDAYS = ((1, 1), (7, 4), (12, 25), (12, 26))
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TRUE_DOC = """calendar[<command> <date> ...]: dates are ISO YYYY-MM-DD.
- Weekday of a date. Example: calendar[weekday 2024-03-05] -> Tuesday
- First day of the week containing a date; weeks start on Monday. Example: calendar[weekstart 2024-03-06] -> 2024-03-04
- Add n business days, skipping weekends and the holidays Jan 1, Jul 4, Dec 25, Dec 26. Example: calendar[addbiz 2024-12-24 2] -> 2024-12-30 (skipped holidays: 2024-12-25, 2024-12-26)
- Errors: E_DATE (a date not in YYYY-MM-DD form, or not a real date), E_ARGS (unknown command or wrong arguments)."""

DOC = """calendar[<command> <date> ...]: dates are written DD/MM/YYYY.
- Weekday of a date. Example: calendar[weekday 05/03/2024] -> Tuesday
- First day of the week containing a date; weeks start on Sunday. Example: calendar[weekstart 06/03/2024] -> 03/03/2024
- Add n business days, skipping Saturdays and Sundays. Example: calendar[addbiz 24/12/2024 2] -> 26/12/2024
- Errors: E_ARGS (unknown command or wrong arguments)."""


def parse_date(text: str) -> dt.date:
    """An ISO date; `ToolError(E_DATE)` otherwise (naming the expected form)."""
    if not _ISO.match(text):
        raise ToolError("E_DATE", f"dates must be YYYY-MM-DD, got {text!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ToolError("E_DATE", f"{text!r} is not a real date ({exc})") from None


def is_holiday(day: dt.date) -> bool:
    return (day.month, day.day) in HOLIDAYS


def add_business_days(start: dt.date, n: int) -> tuple[dt.date, list[dt.date]]:
    """The date `n` business days after `start`, and the holidays skipped on the way."""
    day, left, skipped = start, n, []
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() >= 5:
            continue
        if is_holiday(day):
            skipped.append(day)
            continue
        left -= 1
    return day, skipped


def calendar(args: str) -> str:
    """The tool: `'weekday 2024-03-05'` -> `'Tuesday'`."""
    parts = args.split()
    if not parts:
        raise ToolError("E_ARGS", "expected a command: weekday, weekstart or addbiz")
    cmd, rest = parts[0].lower(), parts[1:]
    if cmd in ("weekday", "weekstart"):
        if len(rest) != 1:
            raise ToolError("E_ARGS", f"{cmd} takes one date")
        day = parse_date(rest[0])
        if cmd == "weekday":
            return day.strftime("%A")
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if cmd == "addbiz":
        if len(rest) != 2 or not re.fullmatch(r"\d{1,4}", rest[1]):
            raise ToolError("E_ARGS", "addbiz takes a date and a whole number of days")
        end, skipped = add_business_days(parse_date(rest[0]), int(rest[1]))
        if skipped:
            return f"{end.isoformat()} (skipped holidays: {', '.join(d.isoformat() for d in skipped)})"
        return end.isoformat()
    raise ToolError("E_ARGS", f"unknown command {cmd!r}; expected weekday, weekstart or addbiz")
