"""Canned replies: the shortcuts agents type, rendered with the order's facts."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.base import Order
from console.chat.conversations import MAX_BODY_CHARS, ChatError
from console.chat.models import CannedReply
from console.orders.explain import explain_status, status_label


def list_canned(session: Session) -> list[CannedReply]:
    return list(session.execute(select(CannedReply).order_by(CannedReply.shortcut)).scalars())


def save_canned(session: Session, shortcut: object, body: object, title: object = "",
                reply_id: int | None = None) -> CannedReply:
    shortcut = str(shortcut or "").strip().lstrip("/").lower()
    body = str(body or "").strip()
    if not shortcut or not shortcut.replace("-", "").replace("_", "").isalnum() or len(shortcut) > 40:
        raise ChatError(400, "invalid_shortcut",
                        _("A shortcut is one word of letters, digits, - or _ (at most 40)."))
    if not body or len(body) > MAX_BODY_CHARS:
        raise ChatError(400, "invalid_body", _("The reply text is empty or too long."))
    reply = session.get(CannedReply, reply_id) if reply_id else CannedReply()
    if reply is None:
        raise ChatError(404, "not_found", _("There is no such canned reply."))
    reply.shortcut, reply.body, reply.title = shortcut, body, str(title or "")[:120]
    session.add(reply)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ChatError(409, "duplicate_shortcut", _("/%(shortcut)s is already used.",
                                                     shortcut=shortcut)) from None
    return reply


def delete_canned(session: Session, reply_id: int) -> None:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise ChatError(404, "not_found", _("There is no such canned reply."))
    session.delete(reply)
    session.commit()


def render_canned(body: str, order: Order | None, lang: str) -> str:
    """Fill {order_no} and {status_explanation}; other braces are left alone on purpose
    (no str.format, so a reply cannot reach into Python objects)."""
    order_no = order.order_no if order else ""
    explanation = ""
    if order is not None:
        explained = explain_status(order.status, order.product.category, lang)
        explanation = f"{status_label(order.status, lang)}: {explained.text}"
    return body.replace("{order_no}", order_no).replace("{status_explanation}", explanation)
