"""Telling customers about their orders without being asked.

Listens to console/signals.py.  Each notice is stored as a ``system`` message (with a
``client_id`` derived from what happened, so a signal sent twice stores one message) and
then emitted, together with an ``order_update`` event that lets open order cards refresh.
A failure here is logged and swallowed: a chat notice must never undo a refund.
"""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from adapters.base import Order, OrderNotFound, StoreError
from console import signals
from console.chat import events, service
from console.chat.models import Conversation
from console.chat.presenters import order_for_agent, order_for_customer
from console.extensions import db
from console.orders.explain import explain_status, status_label
from console.store import get_store

log = logging.getLogger(__name__)

def _words(key: str, lang: str, **values: object) -> str:
    """A notice in the conversation's language (the customer's, not the agent's)."""
    with force_locale(lang):
        if key == "status":
            return _("Update on order %(order_no)s: %(label)s. %(text)s", **values)
        if key == "edit_approved":
            return _("Your change request for order %(order_no)s was approved. %(note)s",
                     **values).strip()
        if key == "edit_rejected":
            return _("Your change request for order %(order_no)s was not approved. %(note)s",
                     **values).strip()
        return _("A new card key was issued for order %(order_no)s (serial %(serials)s).",
                 **values)


def _guarded(receiver):
    def run(sender, **kwargs):
        if not has_app_context():
            log.warning("chat notice %s skipped: no application context", receiver.__name__)
            return
        try:
            receiver(sender, **kwargs)
        except Exception:
            db.session.rollback()
            current_app.logger.exception("chat notice %s failed", receiver.__name__)
    run.__name__ = receiver.__name__
    return run


def _order(order_no: str) -> Order | None:
    try:
        return get_store().get(order_no)
    except (OrderNotFound, StoreError):
        return None


def _notify(conversation: Conversation, body: str, client_id: str, order_no: str | None,
            customer_extra: dict | None = None) -> None:
    message, conversation, created = service.post_message(
        db.session, conversation.id, sender_kind="system", body=body, client_id=client_id,
        order_no=order_no, customer_extra=customer_extra)
    if created:
        events.announce_message(message, conversation)


def order_status_changed(sender, order_no: str, status: str, previous: str | None = None,
                         detail: str | None = None, **_ignored) -> None:
    """A linked order changed status: say so in plain words, refresh the order cards."""
    conversations = service.conversations_for_order(db.session, order_no)
    if not conversations or status == previous:
        return
    order = _order(order_no)
    category = order.product.category if order else "other"
    for conversation in conversations:
        lang = conversation.lang
        explained = explain_status(status, category, lang)
        body = _words("status", lang, order_no=order_no, label=status_label(status, lang),
                      text=explained.text)
        _notify(conversation, body, f"order:{order_no}:{previous or '-'}>{status}", order_no)
        customer = {"conversation_id": conversation.id, "order_no": order_no, "status": status,
                    "previous": previous,
                    "order": order_for_customer(order, lang) if order else None}
        agent = dict(customer, order=order_for_agent(order, lang) if order else None,
                     detail=detail)
        events.announce_order_update(conversation, customer, agent)


def action_finished(sender, action: dict | None = None, order_no: str | None = None,
                    **_ignored) -> None:
    """An agent's action on a linked order finished: refresh the order cards (the status
    change itself, if any, arrives as order_changed and is worded there)."""
    order_no = order_no or (action or {}).get("order_no")
    if not order_no:
        return
    order = _order(order_no)
    for conversation in service.conversations_for_order(db.session, order_no):
        lang = conversation.lang
        base = {"conversation_id": conversation.id, "order_no": order_no,
                "status": order.status if order else None,
                "action": {k: (action or {}).get(k) for k in ("id", "kind", "state")}}
        events.announce_order_update(
            conversation, dict(base, order=order_for_customer(order, lang) if order else None),
            dict(base, order=order_for_agent(order, lang) if order else None))


def edit_request_decided(sender, request: dict | None = None, **_ignored) -> None:
    request = request or {}
    order_no, state = request.get("order_no"), request.get("state")
    if not order_no or state not in ("approved", "applied", "rejected", "refused"):
        return
    key = "edit_rejected" if state in ("rejected", "refused") else "edit_approved"
    targets = service.conversations_for_order(db.session, order_no)
    wanted = request.get("conversation_id")
    if wanted:
        targets = [c for c in targets if c.id == wanted] or \
            [c for c in [db.session.get(Conversation, wanted)] if c is not None]
    for conversation in targets:
        body = _words(key, conversation.lang, order_no=order_no, note=request.get("note") or "")
        _notify(conversation, body, f"edit:{request.get('id')}:{state}", order_no)


def keys_reissued(sender, order_no: str | None = None, serials: list | None = None,
                  secrets: list | None = None, **_ignored) -> None:
    """New card keys: the serials in the shared transcript, the secrets for the customer's
    eyes only (``customer_extra``), and only where the customer verified the order."""
    if not order_no:
        return
    verified = set(service.verified_conversation_ids(db.session, order_no))
    for conversation in service.conversations_for_order(db.session, order_no):
        if conversation.id not in verified:
            continue
        body = _words("keys", conversation.lang, order_no=order_no,
                      serials=", ".join(serials or []) or "-")
        extra = {"card_keys": [{"serial": s, "secret": k}
                               for s, k in zip(serials or [], secrets or [])]}
        _notify(conversation, body, f"keys:{order_no}:{','.join(serials or [])}"[:80],
                order_no, customer_extra=extra if secrets else None)


_signals_connected = False


def connect_signals() -> None:
    """Subscribe once per process (blinker keeps strong references with weak=False)."""
    global _signals_connected
    if _signals_connected:
        return
    signals.order_changed.connect(_guarded(order_status_changed), weak=False)
    signals.action_finished.connect(_guarded(action_finished), weak=False)
    signals.edit_request_decided.connect(_guarded(edit_request_decided), weak=False)
    signals.keys_reissued.connect(_guarded(keys_reissued), weak=False)
    _signals_connected = True


def send_notice(conversation: Conversation, body: str, client_id: str,
                order_no: str | None = None) -> None:
    """A notice from the shop in one chat (incidents use it); the same ``client_id``
    twice stores one message."""
    _notify(conversation, body, client_id, order_no)
