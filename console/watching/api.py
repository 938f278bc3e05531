"""Stuck-order alerts (agents) and incidents (supervisors) as JSON."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from console.access import role_required
from console.api.params import int_param
from console.extensions import db
from console.models import utcnow
from console.supervisor.params import choice
from console.watching import incidents
from console.watching.models import IncidentOrder, StuckAlert
from console.watching.presenters import alert_json, incident_json
from console.watching.views import bp


@bp.get("/api/alerts/stuck-orders")
@role_required("agent")
def stuck_orders():
    """Orders stuck in a status longer than their category allows, longest first, each with
    the customer's open chat when there is one."""
    limit = int_param(request.args, "limit", 200, 1, 1000)
    alerts = db.session.execute(
        select(StuckAlert).where(StuckAlert.cleared_at.is_(None))
        .order_by(StuckAlert.since).limit(limit)).scalars().all()
    chats = incidents.open_chats_for(db.session, [a.order_no for a in alerts])
    now = utcnow()
    rows = []
    for alert in alerts:
        row = alert_json(alert, now)
        row["conversation_id"] = chats.get(alert.order_no)
        rows.append(row)
    return jsonify({"alerts": rows, "total": len(rows)})


@bp.get("/api/incidents")
@role_required("supervisor")
def incident_list():
    """Incidents newest first; ``state`` open, closed or all (the default)."""
    state = choice(request.args, "state", incidents.STATES) or "all"
    return jsonify({"incidents": [incident_json(i, n) for i, n in
                                  incidents.list_incidents(db.session, state)]})


@bp.get("/api/incidents/<int:incident_id>")
@role_required("supervisor")
def incident_detail(incident_id: int):
    """One incident with its affected orders and the chats linked to them."""
    incident = incidents.get_incident(db.session, incident_id)
    order_nos = list(db.session.execute(select(IncidentOrder.order_no).where(
        IncidentOrder.incident_id == incident.id).order_by(IncidentOrder.id)).scalars())
    chats = incidents.affected_chats(db.session, order_nos)
    by_order: dict[str, list[int]] = {}
    for cid, order_no in chats.items():
        by_order.setdefault(order_no, []).append(cid)
    return jsonify({"incident": incident_json(incident, len(order_nos)),
                    "orders": [{"order_no": o, "conversations": sorted(by_order.get(o, []))}
                               for o in order_nos]})


@bp.post("/api/incidents/<int:incident_id>/notify")
@role_required("supervisor")
def incident_notify(incident_id: int):
    """Send one notice to every affected customer's chat."""
    data = request.get_json(silent=True) or {}
    sent = incidents.notify(db.session, incident_id, data.get("message"),
                            current_user._get_current_object())
    return jsonify({"sent": sent, "incident": incident_json(
        incidents.get_incident(db.session, incident_id))})


@bp.post("/api/incidents/<int:incident_id>/close")
@role_required("supervisor")
def incident_close(incident_id: int):
    incident = incidents.close(db.session, incident_id, current_user._get_current_object())
    return jsonify({"incident": incident_json(incident)})
