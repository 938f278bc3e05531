"""JSON routes behind the order detail screen's panels: audited reveals, agent notes, agent tags.

Cookie callers send the CSRF token (``X-CSRFToken`` header, from the page's meta tag);
bearer callers don't need it.  Every route needs the agent role or above.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from console import audit
from console.access import role_required
from console.api.views import bp
from console.auth.sessions import recent_password_required
from console.errors import ApiError, error_response
from console.extensions import db
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
from console.ratelimits import Limited, spend
from console.store import get_store
from console.templating import current_language


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


def optional_index(raw: Any) -> int | None:
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
@recent_password_required
def reveal(order_no: str):
    """Unmask the buyer's contact (``{"what": "contact", "reason"}``) or one card key's
    secret (``{"what": "key", "serial", "index", "reason"}``).

    Each reveal needs a reason and a recently typed password, is audited before the value
    leaves, is limited per agent (``REVEAL_RATE_LIMIT``, 429 after) and never cached.
    Roles in ``NO_REVEAL_ROLES`` can never reveal.
    """
    data = payload()
    what = data.get("what")
    order_no = order_no.strip()
    if what not in ("contact", "key"):
        raise ApiError(400, "invalid_parameter", 'what must be "contact" or "key"')
    reason = check_reveal_allowed(data.get("reason"), order_no, what)
    if what == "contact":
        buyer = reveal_contact(get_store(), order_no, actor(), reason=reason)
        recipient = get_store().get(order_no).recipient_account
        return no_store(jsonify(what="contact", order_no=order_no, account=buyer.account,
                                phone=buyer.phone, email=buyer.email,
                                recipient_account=recipient))
    serial = data.get("serial")
    found = reveal_key(get_store(), order_no, actor(),
                       serial=None if serial is None else str(serial),
                       index=optional_index(data.get("index")), reason=reason)
    return no_store(jsonify(what="key", order_no=order_no, index=found.index,
                            serial=found.key.serial, secret=found.key.secret,
                            status=found.key.status))


def check_reveal_allowed(reason: object, order_no: str, what: str) -> str:
    """The cleaned reason, once the role and the agent's hourly budget allow a reveal."""
    user = actor()
    if user.role in current_app.config["NO_REVEAL_ROLES"]:
        raise ApiError(403, "reveal_forbidden", _("Your role may not reveal contacts or keys."))
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ApiError(400, "reason_required", _("Say why you need to see it."))
    wait = spend("REVEAL_RATE_LIMIT", "user", user.id)
    if wait:
        audit.record("reveal_refused", actor=user, order_no=order_no, what=what,
                     reason=text[:200], retry_after=wait)
        db.session.commit()
        raise Limited(_("You have revealed too much this hour; wait %(minutes)s minutes.",
                        minutes=max(1, (wait + 59) // 60)), wait)
    return text[:500]


def no_store(response):
    """Revealed values must not stay in any cache, the browser's included."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


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
