"""The one calendar: weeks, periods, week numbers, last year, and retail 4-5-4 months.

Nothing else in kam-dash does date arithmetic for periods. The rules (also in
docs/METRICS.md under "Calendar"):

- A week is named by its Monday and belongs to the year (and month) its Monday
  falls in. So 2024 has 53 weeks (2024-01-01 .. 2024-12-30) and 2025 has 52.
- Last year of a week is the week 364 days earlier, except that a week whose
  last year would fall inside its own year (the 53rd Monday of a year, e.g.
  2024-12-30 -> 2024-01-01) has none: it is shown without growth. Growth
  compares only weeks that have a last year. So 2024 compares with all of 2023
  and never with its own first week, and 2025 with 2024-01-08 .. 2024-12-30.
- The seasonal index at week grain uses ISO week numbers, week 53 folded into 52.
- Months and quarters follow a setting: the Gregorian calendar (a week belongs
  to the month its Monday falls in), or the retail 4-5-4 calendar: the retail
  year starts on the Monday nearest 1 February, its months run 4, 5 and 4 weeks
  in each quarter, and in a 53-week retail year the 53rd week joins the last month.
- A period the user picks is clamped once, where filters become weeks, to the
  weeks loaded: every number on a page sees the same weeks.

Everything here is plain Python on `datetime.date` (no engine, no pandas), so
the rules are easy to test by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # filters imports this module; the reverse only for typing
    from kam_dash.filters import Filters

WEEK = dt.timedelta(weeks=1)
LAST_YEAR = dt.timedelta(days=364)  # 52 weeks: the same weekday, the nearest date a year back

GREGORIAN, RETAIL_454 = "gregorian", "retail-454"
CALENDARS = {GREGORIAN: "Calendar months", RETAIL_454: "Retail 4-5-4 months"}

DEFINITIONS = {
    "Week": "A week is named by its Monday and belongs to the year and month its Monday falls in. A year has 52 "
    "weeks, or 53 when it has 53 Mondays (2024: 2024-01-01 to 2024-12-30).",
    "Last year": "The last year of a week is the week 364 days (52 weeks) earlier, except for the 53rd Monday of a "
    "year (e.g. 2024-12-30), whose week 364 days earlier lies in its own year: that week has no last year and is "
    "shown without growth. Growth compares only weeks that have a last year, so 2024 compares with all of 2023, and "
    "2025 with 2024-01-08 to 2024-12-30 (never 2024's first week).",
    "Period": "The period picked (year to date, last 13 or 52 weeks, a full year or a custom range) becomes the weeks "
    "whose Monday falls in it, clamped once to the weeks loaded (the first to the latest week of any weekly table). "
    "A full year of the current year therefore covers only the weeks loaded so far, and every tile, chart, table, "
    "export and review pack of a view sees the same weeks. Last year is the last year of those weeks.",
    "Week number": "The seasonal index at week grain numbers weeks by ISO week (1 to 52); an ISO week 53 is folded "
    "into week 52.",
    "Retail 4-5-4 calendar": "With the setting KAM_DASH_CALENDAR=retail-454, months and quarters follow the retail "
    "calendar: the retail year starts on the Monday nearest 1 February (it is named by the calendar year it starts "
    "in), its months run 4, 5 and 4 weeks in each quarter, and in a 53-week retail year the 53rd week joins the last "
    "month. Weeks and last year stay as above.",
}


# -- weeks ----------------------------------------------------------------------------------------------------
def monday(day: dt.date) -> dt.date:
    """The Monday starting the week that holds a day."""
    return day - dt.timedelta(days=day.weekday())


def first_monday(year: int) -> dt.date:
    """The first Monday of a calendar year (the first week of that year)."""
    day = dt.date(year, 1, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def next_monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def week_year(week: dt.date) -> int:
    """The year a week belongs to: the year its Monday falls in."""
    return week.year


def weeks_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The Mondays from start to end, both inclusive (start and end need not be Mondays)."""
    day = next_monday_on_or_after(start)
    out = []
    while day <= end:
        out.append(day)
        day += WEEK
    return out


@lru_cache(maxsize=256)
def weeks_of_year(year: int) -> tuple[dt.date, ...]:
    """The Mondays of a calendar year: 52, or 53 in a year with 53 Mondays."""
    return tuple(weeks_between(dt.date(year, 1, 1), dt.date(year, 12, 31)))


def weeks_of_month(month: dt.date) -> list[dt.date]:
    """The Mondays that fall in a calendar month."""
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return weeks_between(first, nxt - dt.timedelta(days=1))


def last_year(week: dt.date) -> dt.date | None:
    """The week 364 days earlier; None for a 53rd Monday, whose week 364 days earlier is in its own year."""
    earlier = week - LAST_YEAR
    return None if earlier.year == week.year else earlier


def next_year(week: dt.date) -> dt.date | None:
    """The week whose last year this week is (the inverse of last_year), or None (a year's first Monday in a
    53-Monday year is nobody's last year)."""
    later = week + LAST_YEAR
    return later if last_year(later) == week else None


def week_number(week: dt.date) -> int:
    """The ISO week number of a week, 53 folded into 52 (the seasonal index's week grain)."""
    return min(week.isocalendar()[1], 52)


# -- months and quarters -----------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def retail_year_start(year: int) -> dt.date:
    """The Monday nearest 1 February of a year: the start of retail year `year`."""
    feb1 = dt.date(year, 2, 1)
    back = monday(feb1)
    forward = back + WEEK
    return back if (feb1 - back) <= (forward - feb1) else forward


def retail_year_of(week: dt.date) -> int:
    year = week.year
    return year if week >= retail_year_start(year) else year - 1


def retail_weeks_of_year(year: int) -> int:
    """52 or 53: the weeks from the start of retail year `year` to the start of the next."""
    return (retail_year_start(year + 1) - retail_year_start(year)).days // 7


RETAIL_MONTH_WEEKS = (4, 5, 4) * 4


def retail_month(week: dt.date) -> tuple[int, int]:
    """(retail year, retail month 1-12) of a week; month 12 takes the 53rd week of a long year."""
    year = retail_year_of(week)
    index = (monday(week) - retail_year_start(year)).days // 7  # 0-based week of the retail year
    total = 0
    for month, weeks in enumerate(RETAIL_MONTH_WEEKS, start=1):
        total += weeks
        if index < total:
            return year, month
    return year, 12  # the 53rd week


def month_of(week: dt.date, calendar: str = GREGORIAN) -> tuple[int, int]:
    """(year, month) a week counts in under a calendar setting."""
    if calendar == RETAIL_454:
        return retail_month(week)
    return week.year, week.month


def quarter_of(week: dt.date, calendar: str = GREGORIAN) -> tuple[int, int]:
    year, month = month_of(week, calendar)
    return year, (month - 1) // 3 + 1


def month_label(year: int, month: int, calendar: str = GREGORIAN) -> str:
    if calendar == RETAIL_454:
        return f"P{month:02d} FY{year}"
    return dt.date(year, month, 1).strftime("%b %Y")


# -- periods ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """The weeks a view reads: the Mondays from start to end, already clamped to the loaded weeks.

    `requested_start`/`requested_end` are the days the user asked for (shown when they differ). A period entirely
    outside the data is empty (start > end, no weeks). Last year is per week (see last_year()): `comparable`
    holds the weeks that have one, `ly_weeks` their last years, `ly_start`/`ly_end` the range that holds them.
    """

    start: dt.date
    end: dt.date
    latest_week: dt.date
    requested_start: dt.date | None = None
    requested_end: dt.date | None = None
    weeks: tuple[dt.date, ...] = field(init=False)
    comparable: tuple[dt.date, ...] = field(init=False)
    ly_weeks: tuple[dt.date, ...] = field(init=False)
    ly_start: dt.date = field(init=False)
    ly_end: dt.date = field(init=False)

    def __post_init__(self) -> None:
        weeks = tuple(weeks_between(self.start, self.end))
        pairs = [(w, last_year(w)) for w in weeks]
        comparable = tuple(w for w, ly in pairs if ly is not None)
        ly_weeks = tuple(ly for _, ly in pairs if ly is not None)
        set_ = object.__setattr__
        set_(self, "weeks", weeks)
        set_(self, "comparable", comparable)
        set_(self, "ly_weeks", ly_weeks)
        # An empty period keeps a well-formed (empty) last-year range so `between` filters stay valid.
        set_(self, "ly_start", ly_weeks[0] if ly_weeks else self.start - LAST_YEAR)
        set_(self, "ly_end", ly_weeks[-1] if ly_weeks else self.end - LAST_YEAR)

    @property
    def empty(self) -> bool:
        return not self.weeks

    @property
    def clamped(self) -> bool:
        """True when the weeks shown are fewer than the period asked for (data starts later or ends earlier)."""
        if self.requested_start is None or self.requested_end is None:
            return False
        return tuple(weeks_between(self.requested_start, self.requested_end)) != self.weeks

    @property
    def without_last_year(self) -> tuple[dt.date, ...]:
        """Weeks of the period that have no last year (a 53rd Monday): left out of growth."""
        return tuple(w for w in self.weeks if last_year(w) is None)

    @property
    def ly_gaps(self) -> tuple[dt.date, ...]:
        """Weeks inside ly_start..ly_end that are no week's last year (a 53-Monday year's first Monday when the
        period spans the turn of the year): a last-year sum over the range must leave them out."""
        if not self.ly_weeks:
            return ()
        wanted = set(self.ly_weeks)
        return tuple(w for w in weeks_between(self.ly_start, self.ly_end) if w not in wanted)

    def ly_of(self, end: dt.date) -> tuple[dt.date, dt.date] | None:
        """The last-year range of the period's comparable weeks up to `end` (a table's or retailer's own latest
        week), or None when no such week has a last year."""
        lys = [ly for w, ly in zip(self.comparable, self.ly_weeks) if w <= end]
        return (lys[0], lys[-1]) if lys else None

    def describe_dates(self) -> str:
        if self.empty:
            return "no loaded weeks"
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"


def requested_range(filters: Filters, latest_week: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day a week's Monday may fall on to be in the filters' period (before clamping).

    Year to date: the weeks of the latest week's year up to it. Last 13 / 52 weeks: the 13 / 52 weeks ending with
    the latest week. Full year Y: the weeks of Y. Custom: the days picked.
    """
    if filters.period == "ytd":
        return first_monday(latest_week.year), latest_week
    if filters.period == "l13w":
        return latest_week - 12 * WEEK, latest_week
    if filters.period == "l52w":
        return latest_week - 51 * WEEK, latest_week
    if filters.period == "year":
        year = filters.year or latest_week.year
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    assert filters.start is not None and filters.end is not None
    return filters.start, filters.end


def resolve_period(filters: Filters, first_week: dt.date | None, latest_week: dt.date) -> Period:
    """The period's weeks, clamped to the loaded weeks first_week..latest_week: the one place this happens."""
    req_start, req_end = requested_range(filters, latest_week)
    start = next_monday_on_or_after(req_start)
    if first_week is not None:
        start = max(start, first_week)
    end = min(monday(req_end), latest_week)
    return Period(start=start, end=end, latest_week=latest_week, requested_start=req_start, requested_end=req_end)


def period_of_days(start: dt.date, end: dt.date, latest_week: dt.date) -> Period:
    """A period over explicit days (tests, benchmarks, one account's own range), clamped to latest_week."""
    return Period(start=next_monday_on_or_after(start), end=min(monday(end), latest_week), latest_week=latest_week,
                  requested_start=start, requested_end=end)
