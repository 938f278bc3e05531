"""Actions on orders over HTTP: each route turns a request into one service call.

Every POST needs an ``Idempotency-Key`` header; the same key and body replay the first
answer (with ``Idempotent-Replayed: true``), the same key with another body is a 409.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request, stream_with_context
from flask_login import current_user

from console.access import role_required
from console.actions import audit_log, service
from console.actions.idempotency import check_key
from console.actions.models import EDIT_STATES, EditRequest
from console.api.views import bp
from console.auth.sessions import recent_password_required
from console.errors import ApiError, error_response
from console.exports import audit_export, export_unmasked
from console.extensions import db
from console.orders.reveal import reveal_key
from console.store import get_store


@bp.app_errorhandler(service.ActionError)
def action_error(exc: service.ActionError):
    """The service's refusals (from the API, the pages or the widget) as HTTP: the status
    for their kind, the error shape of every API answer, plus what the client may do
    instead (``offers``)."""
    response, status = error_response(exc.status, exc.code, exc.message)
    if exc.extra and isinstance(response, Response) and response.is_json:
        body = response.get_json()
        body["error"].update(exc.extra)
        response = jsonify(body)
    return response, status


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.")
    if body is not None and not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body or {}


def _key() -> str:
    return check_key(request.headers.get("Idempotency-Key"))


def _actor():
    return current_user._get_current_object()


def _settings() -> service.ActionSettings:
    return service.ActionSettings.from_config(current_app.config)


def _reply(outcome: service.Outcome):
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/orders/<order_no>/refund")
@role_required("agent")
@recent_password_required
def refund(order_no: str):
    """Refund all or part of what was paid; large refunds wait for a supervisor."""
    key, body = _key(), _body()
    return _reply(service.refund(
        get_store(), actor=_actor(), order_no=order_no.strip(), amount=body.get("amount"),
        reason=body.get("reason"), manual_reference=body.get("reference"),
        idempotency_key=key, settings=_settings()))


@bp.post("/orders/<order_no>/reissue")
@role_required("agent")
@recent_password_required
def reissue(order_no: str):
    """Void the delivered card key(s) and deliver new ones (shown once in the answer).
    The idempotency record keeps no secret: a replay reads the new keys again from the
    store, each read audited as a reveal."""
    key, body = _key(), _body()
    outcome = service.reissue(get_store(), actor=_actor(), order_no=order_no.strip(),
                              reason=body.get("reason"), idempotency_key=key)
    if outcome.replayed:
        _reveal_new_keys(order_no.strip(), outcome.body)
    return _reply(outcome)


def _reveal_new_keys(order_no: str, body: dict) -> None:
    for shown in body.get("action", {}).get("new_keys") or []:
        found = reveal_key(get_store(), order_no, _actor(), serial=shown.get("serial"),
                           via="reissue_replay")
        shown["secret"] = found.key.secret
        shown.pop("secret_masked", None)  # the replay answers exactly like the first time


@bp.post("/orders/<order_no>/cancel")
@role_required("agent")
@recent_password_required
def cancel(order_no: str):
    """Cancel an order that was not delivered yet; what was paid is refunded."""
    key, body = _key(), _body()
    return _reply(service.cancel(get_store(), actor=_actor(), order_no=order_no.strip(),
                                 reason=body.get("reason"), idempotency_key=key,
                                 settings=_settings()))


@bp.post("/edit-requests")
@role_required("agent")
def create_edit_request():
    """Record a customer's edit request on their behalf (pending until approved)."""
    key, body = _key(), _body()
    conversation = body.get("conversation_id")
    if conversation is not None and (isinstance(conversation, bool)
                                     or not isinstance(conversation, int)):
        raise ApiError(400, "invalid_conversation_id", "conversation_id must be a number.")
    return _reply(service.create_edit_request(
        get_store(), actor=_actor(), order_no=str(body.get("order_no") or "").strip(),
        changes=body.get("changes"), reason=body.get("reason"), conversation_id=conversation,
        idempotency_key=key))


@bp.get("/edit-requests")
@role_required("agent")
def list_edit_requests():
    """Edit requests, pending first then newest; ``?state=`` and ``?order_no=`` narrow."""
    state = request.args.get("state") or None
    if state and state not in EDIT_STATES:
        raise ApiError(400, "invalid_parameter", f"state must be one of {', '.join(EDIT_STATES)}")
    number, size = _paging()
    query = db.select(EditRequest)
    if state:
        query = query.where(EditRequest.state == state)
    if request.args.get("order_no"):
        query = query.where(EditRequest.order_no == request.args["order_no"].strip())
    total = db.session.execute(db.select(db.func.count()).select_from(query.subquery()))\
        .scalar_one()
    rows = db.session.execute(query.order_by((EditRequest.state != "pending"),
                                             EditRequest.created_at.desc())
                              .offset((number - 1) * size).limit(size)).scalars()
    return jsonify(results=[service.edit_request_json(r) for r in rows], total=total,
                   page=number, per_page=size)


@bp.post("/edit-requests/<int:request_id>/approve")
@role_required("agent")
@recent_password_required
def approve_edit_request(request_id: int):
    """Apply the edit if the order still allows it; else refuse it and offer reissue/refund."""
    key = _key()
    return _reply(service.approve_edit(get_store(), actor=_actor(), request_id=request_id,
                                       idempotency_key=key))


@bp.post("/edit-requests/<int:request_id>/reject")
@role_required("agent")
def reject_edit_request(request_id: int):
    """Turn an edit request down; the note (required) is what the customer is told."""
    key, body = _key(), _body()
    return _reply(service.reject_edit(get_store(), actor=_actor(), request_id=request_id,
                                      note=body.get("note"), idempotency_key=key))


@bp.post("/actions/<int:action_id>/approve")
@role_required("agent")
@recent_password_required
def approve_action(action_id: int):
    """A supervisor other than the requester lets a pending refund or cancel go through."""
    key = _key()
    return _reply(service.approve_action(get_store(), actor=_actor(), action_id=action_id,
                                         idempotency_key=key))


@bp.post("/actions/<int:action_id>/reject")
@role_required("agent")
def reject_action(action_id: int):
    """A supervisor other than the requester turns a pending refund or cancel down."""
    key, body = _key(), _body()
    return _reply(service.reject_action(get_store(), actor=_actor(), action_id=action_id,
                                        note=body.get("note"), idempotency_key=key))


# --- the audit trail ----------------------------------------------------------------

def _paging() -> tuple[int, int]:
    def number(name: str, default: int, high: int) -> int:
        raw = request.args.get(name)
        if raw in (None, ""):
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= high:
            raise ApiError(400, "invalid_parameter", f"{name} must be between 1 and {high}")
        return int(raw)
    return number("page", 1, 1_000_000), number("per_page", current_app.config["PAGE_SIZE"],
                                                500)


def _audit_filter() -> audit_log.AuditFilter:
    try:
        return audit_log.make_filter(request.args, current_app.config["TIMEZONE"])
    except audit_log.BadFilter as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None


@bp.get("/audit")
@role_required("supervisor")
def audit():
    """Audit records, newest first, filtered by order, actor, kind and time; paginated."""
    f = _audit_filter()
    number, size = _paging()
    rows, total = audit_log.page(db.session, f, number, size)
    return jsonify(results=[audit_log.record_json(r) for r in rows], total=total,
                   page=number, per_page=size)


@bp.get("/audit.csv")
@role_required("supervisor")
def audit_csv():
    """The filtered audit trail as a CSV download."""
    f = _audit_filter()
    unmasked = export_unmasked()
    audit_export("audit_csv", masked=not unmasked,
                 filters={k: v for k, v in request.args.items() if v})
    lines = stream_with_context(audit_log.csv_lines(db.session, f, unmasked=unmasked))
    return Response(lines, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=kamidesk-audit.csv"})
