"""The watcher's findings as JSON (times ISO-8601 UTC, durations in seconds)."""
from __future__ import annotations

from datetime import datetime

from console.models import utcnow
from console.watching.models import Incident, StuckAlert

ALERT_FIELDS = ("order_no", "status", "since", "threshold_s", "category", "supplier",
                "operator", "region")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def alert_json(alert: StuckAlert | dict, now: datetime | None = None) -> dict:
    values = alert if isinstance(alert, dict) else {f: getattr(alert, f) for f in ALERT_FIELDS}
    now = now or utcnow()
    out = {f: values.get(f) for f in ALERT_FIELDS}
    out["since"] = _iso(values["since"])
    out["stuck_for_s"] = int((now - values["since"]).total_seconds())
    if not isinstance(alert, dict):
        out["flagged_at"] = _iso(alert.flagged_at)
    return out


def incident_json(incident: Incident, affected: int | None = None) -> dict:
    return {"id": incident.id, "dimension": incident.dimension, "value": incident.value,
            "state": incident.state, "opened_at": _iso(incident.opened_at),
            "last_seen_at": _iso(incident.last_seen_at),
            "window_orders": incident.window_orders, "bad_orders": incident.bad_orders,
            "share": incident.share, "baseline": incident.baseline,
            "affected_orders": affected if affected is not None else len(incident.orders),
            "notice": incident.notice, "notified_at": _iso(incident.notified_at),
            "notified_chats": incident.notified_chats,
            "affected_customers": incident.affected_customers,
            "customers_without_chat": incident.unreached_customers, "closed_at": _iso(incident.closed_at),
            "closed_by": incident.closed_by}
