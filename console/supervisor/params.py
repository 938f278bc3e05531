"""Date ranges and grouping from the query string, with the API's error shape."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from console.errors import ApiError
from console.models import utcnow

DEFAULT_DAYS = 7
MAX_DAYS = 366


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def moment(raw: str | None, tz: ZoneInfo, end_of_day: bool) -> datetime | None:
    """A date (in the console's time zone; ``to`` dates are inclusive) or an ISO time."""
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + (timedelta(days=1) if end_of_day else timedelta())
            return datetime.combine(day, time.min, tzinfo=tz)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid_parameter",
                       _("Dates look like 2026-11-25 or 2026-11-25T08:00:00+08:00.")) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def date_range(args) -> tuple[datetime, datetime]:
    """[from, to) from ``from``/``to``; the last seven days when absent."""
    tz = zone()
    end = moment(args.get("to"), tz, end_of_day=True) or utcnow()
    start = moment(args.get("from"), tz, end_of_day=False) or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ApiError(400, "invalid_parameter", _("from must be before to."))
    if end - start > timedelta(days=MAX_DAYS):
        raise ApiError(400, "invalid_parameter",
                       _("The range is limited to %(days)s days.", days=MAX_DAYS))
    return start, end


def choice(args, name: str, allowed: tuple[str, ...]) -> str | None:
    value = (args.get(name) or "").strip() or None
    if value is not None and value not in allowed:
        raise ApiError(400, "invalid_parameter",
                       _("%(name)s must be one of %(allowed)s.", name=name,
                         allowed=", ".join(allowed)))
    return value
