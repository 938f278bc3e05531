"""Chat pages and the inbox's JSON API: thin shells around console/chat/service.py."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, send_file
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from adapters.base import StoreError
from console.access import bearer_token, role_required
from console.chat import events, service
from console.chat.identity import read_widget_token
from console.chat.models import Attachment, CannedReply, Conversation
from console.chat.presenters import conversation_json, order_for_agent
from console.chat.proactive import connect_signals
from console.chat.service import AgentRef, ChatError
from console.chat.sockets import fill_free_agents, register_namespaces
from console.chat.uploads import attachment_path
from console.errors import ApiError
from console.extensions import db
from console.models import utcnow
from console.orders.explain import normalise_lang
from console.presenters import summary_json
from console.store import get_store

bp = Blueprint("chat", __name__)

PAGE_LIMIT = 200


@bp.record
def _attach_realtime(state) -> None:
    """Each app gets its own Socket.IO server, so handlers are attached per registration."""
    register_namespaces()
    connect_signals()


def _agent() -> AgentRef:
    return AgentRef.of(current_user)


def _json() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _int(value: Any, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "invalid_parameter", _("%(name)s must be a whole number.",
                                                    name=name)) from None
    if not low <= number <= high:
        raise ApiError(400, "invalid_parameter", _("%(name)s must be between %(low)s and "
                                                    "%(high)s.", name=name, low=low, high=high))
    return number


# --- pages --------------------------------------------------------------------------------

@bp.get("/chat")
def customer_page():
    """The customer's chat, full page or inside the widget's frame (``?embed=1``)."""
    response = current_app.make_response(render_template(
        "chat/customer.html", embed=request.args.get("embed") == "1"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/inbox")
@login_required
def inbox():
    """The agent inbox: queue, conversation, the customer's orders."""
    if not current_user.has_role("agent"):
        raise ApiError(403, "forbidden", _("This needs the agent role."))
    return render_template("chat/inbox.html", canned=service.list_canned(db.session),
                           agents=service.agents_overview(db.session))


# --- conversations ------------------------------------------------------------------------

@bp.get("/api/chat/conversations")
@role_required("agent")
def conversations():
    """The queue: unassigned first, oldest waiting first (``view=open|queue|mine|resolved``)."""
    limit = _int(request.args.get("limit"), "limit", 50, 1, PAGE_LIMIT)
    offset = _int(request.args.get("offset"), "offset", 0, 0, 1_000_000)
    rows, total = service.list_conversations(db.session, _agent(),
                                             request.args.get("view", "open"), limit, offset)
    now = utcnow()
    return jsonify(results=[conversation_json(c, now=now) for c in rows], total=total,
                   limit=limit, offset=offset)


@bp.get("/api/chat/conversations/<int:conversation_id>")
@role_required("agent")
def conversation(conversation_id: int):
    """A conversation with the customer's verified orders and likely other orders."""
    found = service.get_conversation(db.session, conversation_id)
    service.require_view(_agent(), found)
    order_nos = service.verified_order_nos(db.session, found.id)
    if found.attached_order_no and found.attached_order_no not in order_nos:
        order_nos.insert(0, found.attached_order_no)
    store, lang = get_store(), normalise_lang(str(getattr(current_user, "language", "") or "en"))
    verified, unavailable = [], None
    try:
        for order_no in order_nos:
            order = service.load_order(store, order_no)
            if order is not None:
                verified.append(order_for_agent(order, lang))
        likely = [summary_json(s) for s in service.likely_orders(db.session, store, found)
                  if s.order_no not in order_nos]
    except StoreError as exc:
        likely, unavailable = [], exc.message
    return jsonify(conversation=conversation_json(found, order_nos), verified_orders=verified,
                   likely_orders=likely, store_error=unavailable)


def _changed(conversation: Conversation, reason: str, previous: int | None):
    events.announce_conversation(conversation, reason, previous, notify_customer=True)
    return jsonify(conversation=conversation_json(conversation))


@bp.post("/api/chat/conversations/<int:conversation_id>/take")
@role_required("agent")
def take(conversation_id: int):
    previous = service.get_conversation(db.session, conversation_id).assignee_id
    return _changed(service.take(db.session, conversation_id, _agent()), "assigned", previous)


@bp.post("/api/chat/conversations/<int:conversation_id>/assign")
@role_required("agent")
def assign(conversation_id: int):
    target = _int(_json().get("agent_id"), "agent_id", 0, 1, 2**31)
    previous = service.get_conversation(db.session, conversation_id).assignee_id
    return _changed(service.assign_to(db.session, conversation_id, target, _agent()),
                    "assigned", previous)


@bp.post("/api/chat/conversations/<int:conversation_id>/resolve")
@role_required("agent")
def resolve(conversation_id: int):
    found = service.resolve(db.session, conversation_id, _agent())
    with force_locale(found.lang):
        text = _("This conversation was marked as resolved. Write again any time if you need "
                 "more help.")
    message, found, created = service.post_message(
        db.session, found.id, sender_kind="system", body=text,
        client_id=f"resolved:{found.resolved_at.isoformat() if found.resolved_at else ''}")
    if created:
        events.announce_message(message, found)
    answer = _changed(found, "resolved", found.assignee_id)
    fill_free_agents()
    return answer


@bp.post("/api/chat/conversations/<int:conversation_id>/reopen")
@role_required("agent")
def reopen(conversation_id: int):
    found = service.reopen(db.session, conversation_id, _agent())
    return _changed(found, "reopened", found.assignee_id)


# --- agents and presence ------------------------------------------------------------------

@bp.get("/api/chat/agents")
@role_required("agent")
def agents():
    return jsonify(agents=service.agents_overview(db.session))


@bp.post("/api/chat/agents/<int:user_id>/limit")
@role_required("supervisor")
def agent_limit(user_id: int):
    """How many chats auto-assignment may give this agent at once (0 = none)."""
    limit = _int(_json().get("max_active"), "max_active", 0, 0, 100)
    presence = service.set_presence(db.session, user_id, max_active=limit)
    return jsonify(user_id=user_id, max_active=presence.max_active)


# --- canned replies -----------------------------------------------------------------------

def _canned_json(reply) -> dict:
    return {"id": reply.id, "shortcut": reply.shortcut, "title": reply.title, "body": reply.body}


@bp.get("/api/chat/canned")
@role_required("agent")
def canned():
    return jsonify(results=[_canned_json(r) for r in service.list_canned(db.session)])


@bp.post("/api/chat/canned")
@role_required("supervisor")
def canned_create():
    data = _json()
    reply = service.save_canned(db.session, data.get("shortcut"), data.get("body"),
                                data.get("title"))
    return jsonify(_canned_json(reply)), 201


@bp.put("/api/chat/canned/<int:reply_id>")
@role_required("supervisor")
def canned_update(reply_id: int):
    data = _json()
    reply = service.save_canned(db.session, data.get("shortcut"), data.get("body"),
                                data.get("title"), reply_id=reply_id)
    return jsonify(_canned_json(reply))


@bp.delete("/api/chat/canned/<int:reply_id>")
@role_required("supervisor")
def canned_delete(reply_id: int):
    service.delete_canned(db.session, reply_id)
    return "", 204


@bp.post("/api/chat/canned/<int:reply_id>/render")
@role_required("agent")
def canned_render(reply_id: int):
    """The reply with {order_no} and {status_explanation} filled for one conversation."""
    reply = db.session.get(CannedReply, reply_id)
    if reply is None:
        raise ChatError(404, "not_found", _("There is no such canned reply."))
    found = service.get_conversation(db.session, _int(_json().get("conversation_id"),
                                                      "conversation_id", 0, 1, 2**31))
    service.require_view(_agent(), found)
    order = service.conversation_order(db.session, get_store(), found)
    return jsonify(body=service.render_canned(reply.body, order, found.lang),
                   order_no=order.order_no if order else None)


# --- attachments --------------------------------------------------------------------------

@bp.get("/api/chat/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    """Only the conversation's customer (widget token) or an agent who may see it."""
    found = db.session.get(Attachment, attachment_id)
    if found is None or not _may_see(found.conversation_id):
        raise ApiError(404, "not_found", _("There is no such file."))
    path = attachment_path(current_app.instance_path, found)
    if not Path(path).exists():
        raise ApiError(404, "not_found", _("There is no such file."))
    response = send_file(path, mimetype=found.content_type, max_age=0, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _may_see(conversation_id: int) -> bool:
    token = bearer_token()
    if token and not token.startswith("kd_"):
        found = read_widget_token(current_app.config["SECRET_KEY"], token)
        conversation = db.session.get(Conversation, found[0]) if found else None
        return bool(found and found[0] == conversation_id
                    and service.check_customer_key(conversation, found[1]))
    if not current_user.is_authenticated or not current_user.has_role("agent"):
        return False
    conversation = db.session.get(Conversation, conversation_id)
    return conversation is not None and service.can_view(_agent(), conversation)
