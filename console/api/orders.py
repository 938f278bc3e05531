"""``/api/orders``: the latest orders, one order's detail, and the order's conversation."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from console.access import role_required
from console.api.params import int_param
from console.api.views import bp
from console.chat import events
from console.chat import service as chat
from console.chat.presenters import conversation_json
from console.chat.service import AgentRef
from console.extensions import db
from console.orders.context import agent_lang, related_links
from console.orders.detail import build_detail, detail_json
from console.presenters import order_json, summary_json
from console.store import get_store


@bp.get("/orders")
@role_required("agent")
def recent():
    """The latest orders, newest first, a page at a time."""
    limit = int_param(request.args, "limit", current_app.config["PAGE_SIZE"], 1, 500)
    offset = int_param(request.args, "offset", 0, 0, 10_000_000)
    page = get_store().recent(offset=offset, limit=limit)
    return jsonify(results=[summary_json(s) for s in page.items], total=page.total,
                   offset=page.offset, limit=page.limit)


@bp.get("/orders/<order_no>")
@role_required("agent")
def detail(order_no: str):
    """The full order as the console shows it (secrets masked), with its story: plain-words
    status in the agent's language (``?lang=en|zh_CN`` overrides), timeline, proof
    warnings, related-order counts, agent notes and tags."""
    view = build_detail(get_store(), db.session, order_no.strip(), agent_lang())
    return jsonify(detail_json(view, order_json(view.order), related_links(view)))


@bp.post("/orders/<order_no>/conversation")
@role_required("agent")
def order_conversation(order_no: str):
    """The order's after-sales conversation: opened if one exists, else created for the
    agent asking, with the buyer's contacts from the store."""
    found, created = chat.open_for_order(db.session, get_store(), order_no,
                                         AgentRef.of(current_user))
    if created:
        with force_locale(found.lang):
            text = _("After-sales conversation opened for order %(order_no)s.",
                     order_no=found.attached_order_no)
        message, found, _created = chat.post_message(
            db.session, found.id, sender_kind="system", body=text,
            client_id=f"after-sales:{found.attached_order_no}", order_no=found.attached_order_no)
        events.announce_message(message, found)
    return jsonify(conversation=conversation_json(found), created=created,
                   url=f"/inbox#c={found.id}"), 201 if created else 200
