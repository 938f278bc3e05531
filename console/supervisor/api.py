"""The supervisors' JSON API: thin shells around metrics, live, analytics and export."""
from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from console.access import role_required
from console.errors import ApiError
from console.exports import audit_export
from console.extensions import db
from console.store import get_store
from console.supervisor import analytics, export, live, metrics, params
from console.supervisor.sla import targets_from_config
from console.supervisor.views import bp
from console.watching import incidents
from console.watching.models import StuckAlert
from console.watching.presenters import alert_json, incident_json

ALERT_COLUMNS = ["order_no", "status", "category", "supplier", "operator", "region", "since",
                 "stuck_for_s", "threshold_s", "flagged_at"]
INCIDENT_COLUMNS = ["id", "state", "dimension", "value", "opened_at", "last_seen_at",
                    "window_orders", "bad_orders", "share", "baseline", "affected_orders",
                    "notified_chats", "affected_customers", "customers_without_chat",
                    "notified_at", "closed_at", "closed_by"]
RATE_COLUMNS = ["key", "orders", "after_sales", "after_sales_rate", "refunded", "refund_rate"]


def _figures(group: str | None) -> dict:
    start, end = params.date_range(request.args)
    return metrics.response_times(db.session, start, end,
                                  targets_from_config(current_app.config), params.zone(), group)


@bp.get("/api/metrics/response-times")
@role_required("supervisor")
def response_times():
    """First response, time to assignment, resolution and handle time (count, median, p90 in
    seconds), reopen rate and SLA breaches, overall, per agent and grouped (agent, hour of
    day or day) for conversations opened in [from, to)."""
    return jsonify(_figures(params.choice(request.args, "group", metrics.GROUPS)))


def _breaches() -> dict:
    start, end = params.date_range(request.args)
    return metrics.breaches(db.session, start, end, targets_from_config(current_app.config))


@bp.get("/api/metrics/sla-breaches")
@role_required("supervisor")
def sla_breaches():
    """Conversations opened in [from, to) that missed a target, newest first."""
    return jsonify(_breaches())


@bp.get("/api/supervisor/live")
@role_required("supervisor")
def live_panel():
    """Waiting now, the longest wait, agents online and their load."""
    return jsonify(live.live_queue(db.session))


def _analytics() -> dict:
    start, end = params.date_range(request.args)
    return analytics.shop_analytics(db.session, get_store(), start, end, params.zone())


@bp.get("/api/supervisor/analytics")
@role_required("supervisor")
def shop_analytics():
    """After-sales and refund rates by product and supplier, orders by hour, top products
    by chats, for orders (and chats) of [from, to)."""
    return jsonify(_analytics())


def _alerts() -> list[dict]:
    return [alert_json(a) for a in db.session.execute(
        select(StuckAlert).where(StuckAlert.cleared_at.is_(None))
        .order_by(StuckAlert.since)).scalars()]


def _overall() -> tuple[list[str], list[list]]:
    overall = _figures(None)["overall"]
    return ["measure", "count", "median_s", "p90_s"], [
        [m, overall[m]["count"], overall[m]["median"], overall[m]["p90"]]
        for m in metrics.MEASURES]


EXPORTS: dict[str, export.Table] = {
    "overall": _overall,
    "live": lambda: export.records_table(live.live_queue(db.session)["agents"],
                                         ["name", "role", "presence", "active", "limit"]),
    "agents": lambda: export.metrics_table(_figures("agent")),
    "hours": lambda: export.metrics_table(_figures("hour")),
    "days": lambda: export.metrics_table(_figures("day")),
    "breaches": lambda: export.breaches_table(_breaches()),
    "stuck": lambda: export.records_table(_alerts(), ALERT_COLUMNS),
    "incidents": lambda: export.records_table(
        [incident_json(i, n) for i, n in incidents.list_incidents(db.session)],
        INCIDENT_COLUMNS),
    "products": lambda: export.records_table(_analytics()["products"], RATE_COLUMNS),
    "suppliers": lambda: export.records_table(_analytics()["suppliers"], RATE_COLUMNS),
    "order-hours": lambda: export.records_table(_analytics()["hours"], RATE_COLUMNS),
    "tickets": lambda: export.records_table(_analytics()["tickets"], ["key", "tickets"]),
}


@bp.get("/api/supervisor/export/<table>.csv")
@role_required("supervisor")
def export_csv(table: str):
    """One dashboard table as CSV, for the same [from, to) as the page."""
    if table not in EXPORTS:
        raise ApiError(404, "unknown_table", _("Tables: %(names)s.", names=", ".join(EXPORTS)))
    header, rows = EXPORTS[table]()
    # Dashboard tables hold figures, agents and order numbers, never contacts: nothing to mask.
    audit_export(f"supervisor_{table}", masked=True, rows=len(rows))
    return Response(export.to_csv(header, rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="kamidesk-{table}.csv"',
        "Cache-Control": "private, no-store"})
