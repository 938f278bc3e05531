"""The promises supervisors make (first answer within 2 minutes, resolved within 10) and the
clock they are measured with: wall-clock time, or only the shop's business hours.

``KAMIDESK_BUSINESS_HOURS`` reads ``09:00-21:00`` (every day) or ``mon-fri 09:00-18:00``;
with it, a question asked at 23:50 starts its SLA clock at the next opening, so a night
without staff does not count as a breach the shop never promised to avoid.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(?:(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+)?"
                    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$")


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours on some weekdays, in the console's time zone."""

    days: frozenset[int]
    opens: time
    closes: time
    zone: ZoneInfo
    text: str

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Seconds between ``start`` and ``end`` that fall inside business hours."""
        if end <= start:
            return 0.0
        total = 0.0
        # from the day before: an opening that runs past midnight covers the early hours
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            if day.weekday() in self.days:
                opened = datetime.combine(day, self.opens, tzinfo=self.zone)
                closed = datetime.combine(day, self.closes, tzinfo=self.zone)
                if closed <= opened:  # e.g. 20:00-02:00 runs past midnight
                    closed += timedelta(days=1)
                overlap = (min(end, closed) - max(start, opened)).total_seconds()
                total += max(0.0, overlap)
            day += timedelta(days=1)
        return total


def parse_business_hours(text: str | None, zone: ZoneInfo) -> BusinessHours | None:
    """None for unset; ValueError with the expected shape for anything unreadable."""
    if not text:
        return None
    match = _HOURS.match(text.lower())
    if not match:
        raise ValueError(f"business hours look like '09:00-21:00' or 'mon-fri 09:00-18:00', "
                         f"not {text!r}")
    first, last = match["d1"] or "mon", match["d2"] or match["d1"] or "sun"
    if first not in DAYS or last not in DAYS:
        raise ValueError(f"unknown weekday in {text!r}; use {', '.join(DAYS)}")
    a, b = DAYS.index(first), DAYS.index(last)
    days = frozenset(range(a, b + 1)) if a <= b else frozenset([*range(a, 7), *range(0, b + 1)])
    opens = time(int(match["h1"]), int(match["m1"]))
    closes = time(int(match["h2"]) % 24, int(match["m2"]))
    return BusinessHours(days, opens, closes, zone, text.strip())


@dataclass(frozen=True)
class Targets:
    """SLA targets in seconds, and the clock they run on."""

    first_response_s: int = 120
    resolution_s: int = 600
    hours: BusinessHours | None = None

    def elapsed(self, start: float, end: float) -> float:
        """Seconds on the SLA clock between two epoch times."""
        if self.hours is not None:
            return self.hours.elapsed(datetime.fromtimestamp(start, timezone.utc),
                                      datetime.fromtimestamp(end, timezone.utc))
        return max(0.0, end - start)

    def as_json(self) -> dict:
        return {"first_response_s": self.first_response_s, "resolution_s": self.resolution_s,
                "business_hours": self.hours.text if self.hours else None}


def targets_from_config(config: dict) -> Targets:
    """The targets an app is configured with (see console/config.py)."""
    zone = ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai")
    return Targets(int(config.get("SLA_FIRST_RESPONSE_SECONDS") or 120),
                   int(config.get("SLA_RESOLUTION_SECONDS") or 600),
                   parse_business_hours(config.get("BUSINESS_HOURS"), zone))
