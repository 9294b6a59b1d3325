"""The filters in force: a frozen value that round-trips through the URL query string.

A link reproduces a view, so every filter lives in the URL. Whatever the URL
says is checked against what the data holds: an unknown retailer, a date that
does not parse or text that looks like SQL is dropped with a warning in words,
never passed on and never an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from kam_dash.calendar import LAST_YEAR, Period, monday, requested_range  # noqa: F401 - re-exported for callers

PERIODS = {
    "ytd": "Year to date",
    "l13w": "Last 13 weeks",
    "l52w": "Last 52 weeks",
    "year": "Full year",
    "custom": "Custom range",
}
# URL keys, one per multi-select filter, and the Filters field each fills.
LIST_PARAMS = {"retailer": "retailers", "channel": "channels", "category": "categories", "brand": "brands",
               "kam": "kams"}
# How each list filter is named in the page header's filter line.
LIST_WORDS = {"retailers": "retailers", "channels": "channels", "categories": "categories", "brands": "brands",
              "kams": "KAM"}
FILTER_PARAMS = ("period", "year", "start", "end", *LIST_PARAMS)


@dataclass(frozen=True)
class Known:
    """What the data holds, to check URL values against."""

    retailers: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()
    kams: frozenset[str] = frozenset()  # the retailers table's kam column
    first_week: dt.date | None = None
    latest_week: dt.date | None = None

    @property
    def years(self) -> range:
        if self.first_week is None or self.latest_week is None:
            return range(0)
        return range(self.first_week.year, self.latest_week.year + 1)


@dataclass(frozen=True)
class Filters:
    period: str = "ytd"
    year: int | None = None  # with period "year"
    start: dt.date | None = None  # with period "custom"
    end: dt.date | None = None
    retailers: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    kams: tuple[str, ...] = ()  # the accounts of these KAMs (the retailers table's kam column)

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"unknown period {self.period!r}")
        for name in LIST_PARAMS.values():
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    # -- the dates ---------------------------------------------------------------------
    def describe(self, period: Period | None, escape=str, retailer_names: Mapping[str, str] | None = None) -> str:
        """The period (as clamped to the loaded weeks) and filters in words, for page headers and exports.
        `escape` is applied to each value from the data (fmt.md_text where the text goes into markdown);
        retailers are named by `retailer_names` (id -> name) where given."""
        label = f"{PERIODS[self.period]} {self.year}" if self.period == "year" and self.year else PERIODS[self.period]
        if period is None:
            text = label
        elif period.empty:
            text = f"{label} (no loaded weeks fall in it)"
        else:
            text = f"{label} ({period.start:%d %b %Y} to {period.end:%d %b %Y}, weeks by Monday)"
            if period.clamped and period.requested_end is not None and period.requested_end > period.end:
                text += f"; data loaded only to {period.end:%d %b %Y}"
        parts = [text]
        named = dict(retailer_names or {})
        for key, name in LIST_PARAMS.items():
            values = getattr(self, name)
            if name == "retailers":
                values = sorted(named.get(v, v) for v in values)
            if values:
                parts.append(f"{LIST_WORDS[name]}: {', '.join(escape(v) for v in values)}")
        if len(parts) == 1:
            parts.append("all retailers, channels, categories and brands")
        return " · ".join(parts)

    def with_(self, **changes) -> Filters:
        return replace(self, **changes)

    # -- URL ---------------------------------------------------------------------------
    def to_params(self) -> dict[str, list[str]]:
        params: dict[str, list[str]] = {"period": [self.period]}
        if self.period == "year" and self.year:
            params["year"] = [str(self.year)]
        if self.period == "custom":
            params["start"] = [self.start.isoformat()]
            params["end"] = [self.end.isoformat()]
        for key, name in LIST_PARAMS.items():
            values = getattr(self, name)
            if values:
                params[key] = list(values)
        return params

    def cache_key(self) -> tuple:
        return tuple(sorted((k, tuple(v)) for k, v in self.to_params().items()))

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str] | str], known: Known) -> tuple[Filters, list[str]]:
        """Read filters from URL parameters; return them and a warning per value dropped."""
        warnings: list[str] = []

        def values(key: str) -> list[str]:
            raw = params.get(key, [])
            return [raw] if isinstance(raw, str) else list(raw)

        period = (values("period") or ["ytd"])[0]
        if period not in PERIODS:
            warnings.append(f"Unknown period {_shown(period)} ignored; showing year to date.")
            period = "ytd"

        year = None
        start = end = None
        if period == "year":
            raw_year = (values("year") or [""])[0]
            # ASCII digits only: superscripts and other Unicode digits pass isdigit() but not int()
            if raw_year.isascii() and raw_year.isdigit() and int(raw_year) in known.years:
                year = int(raw_year)
            else:
                if raw_year:
                    warnings.append(f"Year {_shown(raw_year)} is not in the data; showing year to date.")
                else:
                    warnings.append("A full year needs a year; showing year to date.")
                period = "ytd"
        elif period == "custom":
            start = _parse_date(values("start"), "start", warnings)
            end = _parse_date(values("end"), "end", warnings)
            if start is None or end is None:
                warnings.append("A custom range needs a valid start and end date; showing year to date.")
                period, start, end = "ytd", None, None
            elif start > end:
                warnings.append(f"The start date {start} is after the end date {end}; showing year to date.")
                period, start, end = "ytd", None, None
            else:
                low, high = custom_bounds(known)
                if start < low or end > high:
                    warnings.append(f"The range {start} to {end} reaches outside the dates that can be picked "
                                    f"({low} to {high}); it was cut to them.")
                    start, end = min(max(start, low), high), max(min(end, high), low)

        chosen: dict[str, tuple[str, ...]] = {}
        allowed = {
            "retailers": known.retailers,
            "channels": known.channels,
            "categories": known.categories,
            "brands": known.brands,
            "kams": known.kams,
        }
        for key, name in LIST_PARAMS.items():
            kept = []
            for value in values(key):
                if value in allowed[name]:
                    kept.append(value)
                else:
                    what = "KAM" if key == "kam" else key
                    warnings.append(f"Unknown {what} {_shown(value)} dropped from the filters.")
            chosen[name] = tuple(kept)

        return cls(period=period, year=year, start=start, end=end, **chosen), warnings


def custom_bounds(known: Known) -> tuple[dt.date, dt.date]:
    """The first and last day a custom range may use: a year either side of the loaded weeks (the sidebar's date
    picker offers the same, and refuses a value outside them)."""
    latest = known.latest_week or dt.date.today()
    first = known.first_week or latest - LAST_YEAR
    return first - LAST_YEAR, latest + LAST_YEAR


def _shown(value: str) -> str:
    """A URL value made safe to echo in a message: short, no markdown or HTML."""
    cleaned = "".join(ch for ch in value if ch.isalnum() or ch in " -_.:/")[:40]
    return f"'{cleaned}'" if cleaned else "(unreadable value)"


def _parse_date(raw: list[str], label: str, warnings: list[str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[0].strip())
    except ValueError:
        warnings.append(f"The {label} date {_shown(raw[0])} is not a date (use YYYY-MM-DD).")
        return None
