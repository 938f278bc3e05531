"""JSON routes behind the order detail screen's panels: audited reveals, agent notes, agent tags.

Cookie callers send the CSRF token (``X-CSRFToken`` header, from the page's meta tag);
bearer callers don't need it.  Every route needs the agent role or above.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from console.access import role_required
from console.api.views import bp
from console.errors import ApiError, error_response
from console.extensions import db, limiter
from console.orders.detail import note_json
from console.orders.notes import InvalidNote, add_note, notes_for
from console.orders.reveal import RevealError, reveal_contact, reveal_key
from console.orders.tags import (
    InvalidTag,
    add_tag,
    remove_tag,
    suggested_tags,
    tag_labels,
    tags_for,
)
from console.store import get_store
from console.templating import current_language

REVEAL_LIMIT = "120 per minute"


@bp.errorhandler(InvalidNote)
@bp.errorhandler(InvalidTag)
def invalid_input(exc: InvalidNote | InvalidTag):
    return error_response(400, exc.code, str(exc))


@bp.errorhandler(RevealError)
def reveal_failed(exc: RevealError):
    return error_response(exc.status, exc.code, str(exc))


def payload() -> dict:
    """The request's JSON object (or form fields); anything else is a clear 400."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", "send a JSON object")
        return data
    return request.form.to_dict()


def actor():
    return current_user._get_current_object()


def optional_index(raw: object) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool):
        raise ApiError(400, "invalid_parameter", "index must be a whole number")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, "invalid_parameter", "index must be a whole number") from None


@bp.post("/orders/<order_no>/reveal")
@role_required("agent")
@limiter.limit(REVEAL_LIMIT)
def reveal(order_no: str):
    """Unmask the buyer's contact (``{"what": "contact"}``) or one card key's secret
    (``{"what": "key", "serial": ..., "index": ...}``); each reveal is audited."""
    data = payload()
    what = data.get("what")
    order_no = order_no.strip()
    if what == "contact":
        buyer = reveal_contact(get_store(), order_no, actor())
        return jsonify(what="contact", order_no=order_no, account=buyer.account,
                       phone=buyer.phone, email=buyer.email)
    if what == "key":
        serial = data.get("serial")
        found = reveal_key(get_store(), order_no, actor(),
                           serial=None if serial is None else str(serial),
                           index=optional_index(data.get("index")))
        return jsonify(what="key", order_no=order_no, index=found.index,
                       serial=found.key.serial, secret=found.key.secret,
                       status=found.key.status)
    raise ApiError(400, "invalid_parameter", 'what must be "contact" or "key"')


@bp.get("/orders/<order_no>/notes")
@role_required("agent")
def list_notes(order_no: str):
    """The order's internal notes, newest first."""
    get_store().get(order_no.strip())
    return jsonify(notes=[note_json(n) for n in notes_for(order_no.strip(), db.session)])


@bp.post("/orders/<order_no>/notes")
@role_required("agent")
def create_note(order_no: str):
    """Add an internal note (``{"body": "..."}``); never shown to the customer."""
    note = add_note(get_store(), order_no.strip(), payload().get("body"), actor(), db.session)
    return jsonify(note=note_json(note)), 201


def tags_answer(order_no: str, tags: list[str]):
    suggestions = suggested_tags(tags, db.session)
    return jsonify(order_no=order_no, agent_tags=tags, suggestions=suggestions,
                   labels=tag_labels([*tags, *suggestions], current_language()))


@bp.get("/orders/<order_no>/tags")
@role_required("agent")
def list_tags(order_no: str):
    """The order's agent tags and one-click suggestions."""
    get_store().get(order_no.strip())
    return tags_answer(order_no.strip(), tags_for(order_no.strip(), db.session))


@bp.post("/orders/<order_no>/tags")
@role_required("agent")
def create_tag(order_no: str):
    """Tag the order (``{"tag": "repeat buyer"}``); adding a present tag changes nothing."""
    order_no = order_no.strip()
    return tags_answer(order_no, add_tag(get_store(), order_no, payload().get("tag"), actor(),
                                         db.session))


@bp.delete("/orders/<order_no>/tags/<path:tag>")
@role_required("agent")
def delete_tag(order_no: str, tag: str):
    """Remove one agent tag from the order."""
    order_no = order_no.strip()
    return tags_answer(order_no, remove_tag(order_no, tag, actor(), db.session))
