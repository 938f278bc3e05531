"""The customer widget's HTTP API (``/api/widget``), authenticated by the widget token.

The CSRF hook in console/access.py exempts this prefix: the widget token travels in the
``Authorization`` header, which a cross-site form cannot set.
"""
from __future__ import annotations

import time
import uuid

from flask import Blueprint, current_app, jsonify, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from console.access import bearer_token
from console.actions import service as actions
from console.chat import events, service
from console.chat.identity import (
    IdentityError,
    issue_widget_token,
    read_widget_token,
    verify_identity,
)
from console.chat.models import Conversation
from console.chat.presenters import attachment_json, customer_conversation_json, order_for_customer
from console.chat.service import ChatError
from console.chat.sockets import assign_waiting
from console.chat.uploads import MAX_UPLOAD_BYTES, save_upload
from console.errors import ApiError
from console.extensions import db, limiter
from console.orders.explain import normalise_lang
from console.ratelimits import config_limit
from console.store import get_store

bp = Blueprint("widget", __name__, url_prefix="/api/widget")


def widget_conversation() -> Conversation:
    """The conversation named by the widget token, or 401."""
    token = bearer_token()
    found = read_widget_token(current_app.config["SECRET_KEY"], token) if token else None
    conversation = db.session.get(Conversation, found[0]) if found else None
    if not found or conversation is None or not service.check_customer_key(conversation,
                                                                            found[1]):
        raise ApiError(401, "invalid_token", _("The chat session is not valid; reload the chat."))
    return conversation


def _json() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _session_answer(conversation: Conversation, status: int = 200):
    token = issue_widget_token(current_app.config["SECRET_KEY"], conversation.id, conversation.customer_key)
    return jsonify(token=token, conversation_id=conversation.id,
                   identity_verified=conversation.identity_verified,
                   conversation=customer_conversation_json(conversation),
                   orders=service.verified_order_nos(db.session, conversation.id)), status


@bp.post("/sessions")
@limiter.limit(config_limit("WIDGET_SESSION_LIMIT"))
def sessions():
    """Start (or continue) a customer's chat; a shop-signed identity must verify."""
    data = _json()
    identity = None
    if any(data.get(k) for k in ("signature", "user_id", "email", "phone")):
        try:
            identity = verify_identity(current_app.config.get("WIDGET_SECRET"), data, time.time())
        except IdentityError as exc:
            raise ApiError(401, exc.code, _("The signed identity was refused: %(reason)s",
                                            reason=exc.message)) from None
    elif bearer_token():
        found = read_widget_token(current_app.config["SECRET_KEY"], bearer_token())
        conversation = db.session.get(Conversation, found[0]) if found else None
        if found and service.check_customer_key(conversation, found[1]):
            return _session_answer(conversation)
    lang = normalise_lang(str(get_locale() or "en"))
    conversation = service.start_conversation(db.session, identity, lang)
    return _session_answer(conversation, 201)


@bp.get("/conversation")
def conversation_state():
    conversation = widget_conversation()
    return jsonify(conversation=customer_conversation_json(conversation),
                   orders=service.verified_order_nos(db.session, conversation.id))


@bp.post("/verify-order")
@limiter.limit("20 per minute")
def verify_order():
    """Link an order the customer proves is theirs; answer with it in plain words.
    Wrong answers are limited (console/chat/verification.py): 429 ``too_many_attempts``."""
    conversation = widget_conversation()
    data = _json()
    order = service.verify_order(db.session, get_store(), conversation, data.get("order_no"),
                                 phone_tail=data.get("phone_tail"),
                                 search_password=data.get("search_password"),
                                 address=request.remote_addr)
    with force_locale(conversation.lang):
        text = _("Order %(order_no)s verified.", order_no=order.order_no)
    message, conversation, created = service.post_message(
        db.session, conversation.id, sender_kind="system", body=text,
        client_id=f"verified:{order.order_no}", order_no=order.order_no)
    if created:
        events.announce_message(message, conversation)
    return jsonify(order=order_for_customer(order, conversation.lang))


@bp.get("/orders/<order_no>")
def order(order_no: str):
    conversation = _verified_for(order_no)
    return jsonify(order=order_for_customer(get_store().get(order_no), conversation.lang))


@bp.post("/orders/<order_no>/after-sales")
def after_sales(order_no: str):
    """Open the conversation about this order: the agent sees it attached and on top."""
    conversation = widget_conversation()
    service.attach_for_after_sales(db.session, conversation, order_no)
    body = (_json().get("body") or "").strip() or \
        _("I need help with order %(order_no)s.", order_no=order_no)
    message, conversation, created = service.post_message(
        db.session, conversation.id, sender_kind="customer", body=body,
        client_id=_json().get("client_id") or f"after-sales:{order_no}:{uuid.uuid4().hex[:8]}",
        order_no=order_no)
    if created:
        events.announce_message(message, conversation)
        events.announce_conversation(conversation, "after_sales")
        if conversation.assignee_id is None:
            assign_waiting(conversation.id)
    return jsonify(message={"id": message.id, "seq": message.seq},
                   conversation=customer_conversation_json(conversation))


def _verified_for(order_no: str):
    """This widget's conversation, if it has verified ``order_no``; 403 otherwise."""
    conversation = widget_conversation()
    service.require_verified(db.session, conversation, order_no)
    return conversation


@bp.post("/orders/<order_no>/edit-request")
@limiter.limit("10 per minute")
def edit_request(order_no: str):
    """Ask for a change (e.g. the account to top up); an agent approves or rejects it."""
    conversation = _verified_for(order_no)
    data = _json()
    changes = data.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ApiError(400, "invalid_request", _("Say what should change."))
    result = actions.request_edit(get_store(), order_no=order_no, changes=changes,
                                  reason=str(data.get("reason") or "")[:500],
                                  requested_by=None, via="customer",
                                  conversation_id=conversation.id)
    text = _("I asked to change order %(order_no)s.", order_no=order_no)
    message, conversation, created = service.post_message(
        db.session, conversation.id, sender_kind="customer", body=text,
        client_id=f"edit-request:{result.id}", order_no=order_no)
    if created:
        events.announce_message(message, conversation)
    return jsonify(request=actions.edit_request_json(result)), 201


@bp.post("/orders/<order_no>/cancel")
@limiter.limit("10 per minute")
def cancel(order_no: str):
    """Cancel inside the shop's no-reason window; the actions service decides the window."""
    conversation = _verified_for(order_no)
    data = _json()
    key = request.headers.get("Idempotency-Key") or data.get("idempotency_key")
    if not key:
        raise ApiError(400, "idempotency_key_required", _("Send an Idempotency-Key."))
    result = actions.customer_cancel(get_store(), order_no=order_no,
                                     reason=str(data.get("reason") or "")[:500],
                                     idempotency_key=f"widget:{conversation.id}:{key}",
                                     settings=actions.ActionSettings.from_config(
                                         current_app.config))
    refreshed = get_store().get(order_no)
    return jsonify(result=result, order=order_for_customer(refreshed, conversation.lang))


@bp.post("/uploads")
@limiter.limit("20 per minute")
def upload():
    """A screenshot for the chat; the widget then sends a message with its attachment_id."""
    conversation = widget_conversation()
    ceiling = MAX_UPLOAD_BYTES + 64 * 1024  # the file plus the multipart envelope
    if (request.content_length or 0) > ceiling:
        raise ChatError(413, "file_too_large", _("Screenshots are limited to %(mb)s MB.",
                                                 mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
    request.max_content_length = ceiling
    file = request.files.get("file")
    if file is None:
        raise ChatError(400, "no_file", _("Choose a screenshot to send."))
    attachment = save_upload(db.session, conversation, file.stream, "customer",
                             current_app.instance_path)
    return jsonify(attachment=attachment_json(attachment)), 201
