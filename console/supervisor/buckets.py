"""A date range cut into pieces whose figures can be kept: the whole local days inside it,
the whole local hours of the days it cuts, and the cut hours at its ends (never kept).

Supervisors ask for ranges ending "now" or at a chosen time, each a little different;
cutting them this way lets the dashboard reuse the days and hours it has counted before
(console/supervisor/metrics.py for chats, console/supervisor/analytics.py for orders).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Span:
    kind: str     # "day", "hour" (whole, may be kept) or "cut" (part of an hour)
    number: int   # local days or hours since 1970-01-01 on the zone's wall clock
    day: int      # the local day it falls on
    start: float  # epoch seconds, [start, end)
    end: float

    @property
    def whole(self) -> bool:
        return self.kind != "cut"


def hour_start(hour: int, zone: ZoneInfo) -> float:
    """Epoch seconds at which local hour ``hour`` (hours since 1970-01-01 00:00 on the
    zone's wall clock) begins."""
    day, at = divmod(hour, 24)
    return datetime.combine(date.fromordinal(day + EPOCH_ORDINAL), time(at),
                            tzinfo=zone).timestamp()


def local_day(epoch_s: float, zone: ZoneInfo) -> int:
    return datetime.fromtimestamp(epoch_s, zone).date().toordinal() - EPOCH_ORDINAL


def spans(start: float, end: float, zone: ZoneInfo) -> list[Span]:
    """[start, end) as whole days, whole hours and cut hours, in time order."""
    found: list[Span] = []
    day = local_day(start, zone)
    while (begins := hour_start(day * 24, zone)) < end:
        ends = hour_start(day * 24 + 24, zone)
        if begins >= start and ends <= end:
            found.append(Span("day", day, day, begins, ends))
        else:
            for hour in range(day * 24, day * 24 + 24):
                starts, stops = hour_start(hour, zone), hour_start(hour + 1, zone)
                if stops <= start or starts >= end:
                    continue
                whole = starts >= start and stops <= end
                found.append(Span("hour" if whole else "cut", hour, day,
                                  max(starts, start), min(stops, end)))
        day += 1
    return found
