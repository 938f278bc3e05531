"""The supervisors' JSON API: thin shells around metrics, live and analytics."""
from __future__ import annotations

from flask import current_app, jsonify, request

from console.access import role_required
from console.extensions import db
from console.supervisor import metrics, params
from console.supervisor.sla import targets_from_config
from console.supervisor.views import bp


@bp.get("/api/metrics/response-times")
@role_required("supervisor")
def response_times():
    """First response, time to assignment, resolution and handle time (count, median, p90 in
    seconds), reopen rate and SLA breaches, overall, per agent and grouped (agent, hour of
    day or day) for conversations opened in [from, to)."""
    start, end = params.date_range(request.args)
    group = params.choice(request.args, "group", metrics.GROUPS)
    return jsonify(metrics.response_times(db.session, start, end,
                                          targets_from_config(current_app.config),
                                          params.zone(), group))


@bp.get("/api/metrics/sla-breaches")
@role_required("supervisor")
def sla_breaches():
    """Conversations opened in [from, to) that missed a target, newest first."""
    start, end = params.date_range(request.args)
    return jsonify(metrics.breaches(db.session, start, end,
                                    targets_from_config(current_app.config)))
