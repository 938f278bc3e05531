"""``POST /api/webhooks/orders``: a shop pushes order changes (see ``signature`` for signing)."""
from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from adapters.base import STATUSES, OrderChange
from console import signals
from console.errors import ApiError
from console.extensions import db
from console.webhooks import inbox
from console.webhooks.signature import BadDelivery, verify

bp = Blueprint("webhooks", __name__)

MAX_CHANGES = 500
EXTRAS = ("category", "supplier", "operator", "region")  # optional: spare the watcher a get
MAX_BODY = 256 * 1024


def _changes(data: object) -> list[OrderChange]:
    """``{"changes": [{"order_no", "status", "at"[, "category", "supplier", ...]}]}``."""
    items = data.get("changes") if isinstance(data, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CHANGES:
        raise ApiError(400, "invalid_body", f'the body must be {{"changes": [...]}} with 1 to '
                       f"{MAX_CHANGES} changes")
    out = []
    for number, item in enumerate(items):
        try:
            order_no, status = str(item["order_no"]).strip(), str(item["status"])
            at = datetime.fromisoformat(str(item["at"]))
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "invalid_change", f"changes[{number}] needs order_no, status "
                           "and an ISO-8601 time with offset in at") from None
        if not order_no or len(order_no) > 150 or status not in STATUSES or at.tzinfo is None:
            raise ApiError(400, "invalid_change", f"changes[{number}]: order_no must be 1-150 "
                           "characters, status one of the reference statuses, at with offset")
        extras = {name: str(item[name])[:120] for name in EXTRAS if item.get(name)}
        out.append(OrderChange(order_no, status, at, **extras))
    return out


@bp.post("/api/webhooks/orders")
def orders():
    """Queue a shop's signed order changes for the watcher; 202 with how many were taken."""
    secret = current_app.config.get("WEBHOOK_SECRET")
    if not secret:
        raise ApiError(404, "webhooks_disabled", "set KAMIDESK_WEBHOOK_SECRET to accept "
                       "order webhooks")
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"a delivery may hold at most {MAX_BODY} bytes")
    nonce = request.headers.get("X-Kamidesk-Nonce")
    try:
        verify(secret, request.headers.get("X-Kamidesk-Timestamp"), nonce,
               request.headers.get("X-Kamidesk-Signature"), body, time.time())
    except BadDelivery as exc:
        raise ApiError(401, exc.code, exc.message) from None
    changes = _changes(request.get_json(silent=True))
    try:
        accepted = inbox.record(db.session, str(nonce), changes)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "replayed_nonce", "this delivery's nonce was already used") \
            from None
    signals.order_pushed.send("webhooks", changes=changes)
    return jsonify(accepted=accepted), 202
