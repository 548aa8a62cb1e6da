"""Date arithmetic: a date plus or minus a span, in a requested format.

Like BBH `date_understanding`, but generated and answered in free form: "Today is
January 31, 2024. What is the date 1 month from today in DD/MM/YYYY?" -> "29/02/2024".
Calendar rules: Gregorian; adding months or years keeps the day of the month and
clamps it to the month's last day (Jan 31 + 1 month = Feb 29 in a leap year).
Skills an item can need:
- `direction`: "ago"/"before today" subtracts; adding instead changes the answer;
- `month_ends`: month and year spans clamp to the month's end; overflowing into the
  next month (Jan 31 + 1 month = Mar 2) changes the answer;
- `leap_years`: February has 29 days in leap years; a 365-day calendar changes it;
- `input_format`: "(DD/MM/YYYY)" puts the day first; reading it as MM/DD changes it;
- `output_format`: the answer must be written in the requested format, not MM/DD/YYYY.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re

from dateutil.relativedelta import relativedelta
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning._profile import ReasoningProfile, check_skills
from undertow.bench.tasks.reasoning._text import (
    WORDS_FOR,
    after_marker,
    extract_answer,
    parse_int,
)
from undertow.bench.sim.profile import Skill

NAME = "date_arithmetic"
SKILLS: tuple[str, ...] = ("direction", "month_ends", "leap_years", "input_format",
                           "output_format")
FORMATS: tuple[str, ...] = ("MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "Month D, YYYY")
UNITS: tuple[str, ...] = ("day", "week", "month", "year")
MONTHS: tuple[str, ...] = tuple(calendar.month_name)[1:]
FORWARD, BACKWARD = ("from today", "after today"), ("ago", "before today")


def render(date: dt.date, fmt: str) -> str:
    """`date` written in one of `FORMATS`."""
    if fmt == "MM/DD/YYYY":
        return f"{date.month:02d}/{date.day:02d}/{date.year:04d}"
    if fmt == "DD/MM/YYYY":
        return f"{date.day:02d}/{date.month:02d}/{date.year:04d}"
    if fmt == "YYYY-MM-DD":
        return date.isoformat()
    if fmt == "Month D, YYYY":
        return f"{MONTHS[date.month - 1]} {date.day}, {date.year}"
    raise ValueError(f"{NAME}: unknown date format {fmt!r}; choose one of {FORMATS}")


# --- generator -------------------------------------------------------------------------

def _base_date(rng: random.Random) -> dt.date:
    kind = rng.random()
    year = rng.randint(1890, 2110)
    if kind < 0.4:
        return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    if kind < 0.7:  # a month's last day
        month = rng.randint(1, 12)
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    year = rng.choice([y for y in range(year - 8, year + 8) if calendar.isleap(y)])
    return dt.date(year, 2, 26) + dt.timedelta(days=rng.randrange(5))  # Feb 26 - Mar 1


def _span_text(rng: random.Random, n: int, unit: str) -> str:
    noun = unit if n == 1 else unit + "s"
    if n == 1:
        return f"{rng.choice(('a', 'one', '1'))} {noun}"
    if n in WORDS_FOR and n <= 10 and rng.random() < 0.3:
        return f"{WORDS_FOR[n]} {noun}"
    return f"{n} {noun}"


def _today_text(rng: random.Random, date: dt.date) -> tuple[str, str]:
    """How the item states today's date, and the format it uses (for `input_format`)."""
    last_day = calendar.monthrange(date.year, date.month)[1]
    options = ["long", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"]
    if date.day == last_day:
        options.append("last day")
    style = rng.choice(options)
    if style == "last day":
        return f"Today is the last day of {MONTHS[date.month - 1]} {date.year}.", style
    if style == "long":
        return f"Today is {render(date, 'Month D, YYYY')}.", style
    return f"Today is {render(date, style)} ({style}).", style


def generate(rng: random.Random) -> Example:
    """A base date biased to month ends and leap Februaries, a span, a direction, a format."""
    today = _base_date(rng)
    unit = rng.choice(UNITS)
    n = {"day": rng.randint(1, 400), "week": rng.randint(1, 30),
         "month": rng.randint(1, 30), "year": rng.randint(1, 12)}[unit]
    if rng.random() < 0.3:
        n = min(n, rng.randint(1, 3))
    sign = rng.choice((1, -1))
    fmt = rng.choice(FORMATS)
    today_text, style = _today_text(rng, today)
    direction = rng.choice(FORWARD if sign > 0 else BACKWARD)
    verb = "is" if sign > 0 else "was"
    text = (f"{today_text} What {verb} the date {_span_text(rng, n, unit)} {direction} "
            f"in {fmt}?")
    answer = _shift(today, sign * n, unit)
    target = render(answer, fmt)
    needs = {
        "direction": sign < 0,
        "month_ends": unit in ("month", "year") and _shift(today, sign * n, unit, clamp=False) != answer,
        "leap_years": _shift(today, sign * n, unit, leap=False) != answer,
        "input_format": style == "DD/MM/YYYY" and today.day <= 12 and today.day != today.month,
        "output_format": render(answer, "MM/DD/YYYY") != target,
    }
    return Example(input=text, target=target,
                   meta={"task": NAME, "skills": [s for s in SKILLS if needs[s]],
                         "unit": unit, "format": fmt,
                         "difficulty": round(sum(needs.values()) / len(SKILLS), 3)})


# --- calendar arithmetic, with switches for the characteristic errors ----------------

_NOLEAP_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _noleap_ordinal(date: dt.date) -> int:
    """Day count on a calendar of 365-day years (Feb 29 counts as Mar 1)."""
    return date.year * 365 + sum(_NOLEAP_DAYS[:date.month - 1]) + date.day


def _from_noleap(ordinal: int) -> dt.date:
    year, rest = divmod(ordinal - 1, 365)
    month = 1
    while rest >= _NOLEAP_DAYS[month - 1]:
        rest -= _NOLEAP_DAYS[month - 1]
        month += 1
    return dt.date(year, month, rest + 1)


def _shift(date: dt.date, n: int, unit: str, clamp: bool = True, leap: bool = True) -> dt.date:
    """`date` moved by `n` units; `clamp`/`leap` off switch on the characteristic errors."""
    if unit in ("day", "week"):
        days = n * (7 if unit == "week" else 1)
        if leap:
            return date + dt.timedelta(days=days)
        return _from_noleap(_noleap_ordinal(date) + days)
    months = n * (12 if unit == "year" else 1)
    if clamp and leap:
        return date + relativedelta(months=months)
    year, month0 = divmod(date.year * 12 + date.month - 1 + months, 12)
    if clamp:  # clamp to a 28-day February
        return dt.date(year, month0 + 1, min(date.day, _NOLEAP_DAYS[month0]))
    first = dt.date(year, month0 + 1, 1)  # overflow past the month's end
    return first + dt.timedelta(days=date.day - 1)


# --- solver ---------------------------------------------------------------------------

_TODAY = re.compile(
    r"Today is (?:the last day of (?P<lm>[A-Z][a-z]+) (?P<ly>\d{1,4})"
    r"|(?P<long>[A-Z][a-z]+ \d{1,2}, \d{1,4})"
    r"|(?P<num>[\d/-]+)(?: \((?P<fmt>[A-Y/-]+)\))?)\.")
_QUESTION = re.compile(
    r"What (?:is|was) the date (?P<n>\w+) (?P<unit>day|week|month|year)s? "
    r"(?P<dir>from today|after today|ago|before today) in (?P<fmt>[^?]+)\?")


def _read_numeric(text: str, fmt: str) -> dt.date:
    parts = [int(p) for p in re.split(r"[/-]", text)]
    if len(parts) != 3:
        raise ValueError(f"{NAME}: {text!r} is not a date in {fmt}")
    if fmt == "YYYY-MM-DD":
        return dt.date(parts[0], parts[1], parts[2])
    if fmt == "MM/DD/YYYY":
        return dt.date(parts[2], parts[0], parts[1])
    if fmt == "DD/MM/YYYY":
        return dt.date(parts[2], parts[1], parts[0])
    raise ValueError(f"{NAME}: unknown date format {fmt!r}; choose one of {FORMATS}")


def _parse(text: str, misread_input: bool = False) -> tuple[dt.date, int, str, str]:
    """(today, signed span, unit, output format) read off an item's text."""
    body = after_marker(text, "Today is", NAME)
    today_m, question = _TODAY.search("Today is" + body), _QUESTION.search(body)
    if today_m is None or question is None:
        raise ValueError(f"{NAME}: expected 'Today is <date>. What is the date <n> <unit>s "
                         f"from today|ago in <format>?', got {text[:100]!r}")
    if today_m["lm"]:
        if today_m["lm"] not in MONTHS:
            raise ValueError(f"{NAME}: unknown month {today_m['lm']!r}")
        year, month = int(today_m["ly"]), MONTHS.index(today_m["lm"]) + 1
        today = dt.date(year, month, calendar.monthrange(year, month)[1])
    elif today_m["long"]:
        today = _long_date(today_m["long"])
    else:
        fmt = today_m["fmt"] or ("YYYY-MM-DD" if "-" in today_m["num"] else "MM/DD/YYYY")
        today = _read_numeric(today_m["num"], fmt)
        if misread_input and fmt == "DD/MM/YYYY" and today.day <= 12:
            today = _read_numeric(today_m["num"], "MM/DD/YYYY")  # day and month swapped
    n = parse_int(question["n"])
    if n is None:
        raise ValueError(f"{NAME}: cannot read the span {question['n']!r} as a number")
    sign = 1 if question["dir"] in FORWARD else -1
    return today, sign * n, question["unit"], question["fmt"].strip()


def _long_date(text: str) -> dt.date:
    month, day_year = text.split(" ", 1)
    if month not in MONTHS:
        raise ValueError(f"{NAME}: unknown month {month!r} in {text!r}")
    day, year = day_year.split(", ")
    return dt.date(int(year), MONTHS.index(month) + 1, int(day))


def solve(input: str) -> str:
    """Read today's date, the span and the format; shift with month-end clamping."""
    return answer_without(input, frozenset())


def answer_without(input: str, missing: frozenset[str] | set[str]) -> str:
    """The answer of a solver lacking the skills in `missing` (the characteristic errors)."""
    check_skills(NAME, missing, SKILLS)
    try:
        today, n, unit, fmt = _parse(input, misread_input="input_format" in missing)
        if "direction" in missing:
            n = abs(n)
        date = _shift(today, n, unit, clamp="month_ends" not in missing,
                      leap="leap_years" not in missing)
    except (ValueError, OverflowError) as exc:  # datetime's own messages lack context
        if str(exc).startswith(NAME):
            raise
        raise ValueError(f"{NAME}: {exc} in {input[:100]!r}") from exc
    return render(date, "MM/DD/YYYY" if "output_format" in missing else fmt)


def _date_fields(text: str) -> tuple[int, ...] | None:
    """A written date as comparable fields: numeric parts in order, or (y, m, d) for names."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{1,4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,4})", text):
        return ("numeric", *map(int, m.groups()))  # type: ignore[return-value]
    m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{1,4})", text) or \
        re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{1,4})", text)
    if m is None:
        return None
    a, b, year = m.groups()
    name, day = (a, b) if a[0].isalpha() else (b, a)
    month = next((i for i, full in enumerate(MONTHS, 1)
                  if full.lower().startswith(name.lower()) and len(name) >= 3), None)
    return None if month is None else ("named", int(year), month, int(day))  # type: ignore[return-value]


def score(prediction: str, target: str) -> float:
    """1.0 when the prediction writes the target date in the target's format.

    Leading zeros, separators and month-name spelling are tolerated ("3/2/2021" for
    "03/02/2021"; "Mar 2nd, 2021" for "March 2, 2021"); a different field order is
    not, since the format is part of the question.
    """
    want = _date_fields(target)
    return float(want is not None and _date_fields(extract_answer(prediction)) == want)


class DateArithmeticProfile(ReasoningProfile):
    """What the simulated LLM knows about date arithmetic."""

    name = NAME
    description = "shift a date by a span of days, weeks, months or years"
    keywords = ("date", "calendar", "days", "months", "today")
    item_pattern = re.compile(r"Today is [^?\n]*\?")
    verbose_template = "Counting on the calendar, that date is {answer}."
    skills = (
        Skill(name="direction",
              description='"ago" and "before today" subtract the span',
              cues=("ago ... subtract", "before today ... subtract", "past ... subtract"),
              fix='"Ago" and "before today" mean subtract the span from today; "from today" '
                  "means add it.",
              keywords=("ago", "subtract", "past", "direction", "future"),
              error="it adds the span even when the question asks for a date in the past"),
        Skill(name="month_ends",
              description="adding months or years clamps to the month's last day",
              cues=("month ... last day", "clamp", "no such day"),
              fix="When adding months or years lands on a day the month lacks, use that "
                  "month's last day (Jan 31 + 1 month = Feb 28 or 29).",
              keywords=("month end", "end of the month", "overflow", "clamp", "last day",
                        "31"),
              error="it lets a day the month lacks overflow into the next month "
                    "(Jan 31 + 1 month = Mar 2)"),
        Skill(name="leap_years",
              description="February has 29 days in a leap year",
              cues=("leap year", "february has 29", "29 days in february"),
              fix="Mind leap years: February has 29 days in a leap year (divisible by 4, "
                  "except centuries not divisible by 400).",
              keywords=("leap", "february", "29", "one day off", "off by one"),
              error="it counts every February as 28 days"),
        Skill(name="input_format",
              description="a date marked DD/MM/YYYY gives the day first",
              cues=("dd/mm/yyyy ... day first", "day ... before ... month"),
              fix="A date marked DD/MM/YYYY gives the day first, then the month.",
              keywords=("day first", "month first", "dd/mm", "swapped", "day and month"),
              error="it reads a DD/MM/YYYY date as MM/DD/YYYY, swapping day and month"),
        Skill(name="output_format",
              description="the answer is written in the format the question asks for",
              cues=("requested format", "format ... question asks", "format asked"),
              fix="Write the date in exactly the format the question asks for (the requested "
                  "format), not MM/DD/YYYY by default.",
              keywords=("wrong format", "mm/dd/yyyy", "yyyy-mm-dd", "dd/mm/yyyy", "format"),
              error="it writes the date as MM/DD/YYYY whatever format was asked"),
    )


PROFILE = DateArithmeticProfile(solve, answer_without, score)
