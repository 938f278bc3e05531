"""What supervisors do with an incident: read it, tell the affected customers, close it.
Each step that changes something is audited in the same transaction."""
from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from console.audit import record as audit
from console.chat.models import Conversation, ConversationOrder
from console.chat.proactive import send_notice
from console.errors import ApiError
from console.models import User, utcnow
from console.watching.models import Incident, IncidentOrder

MAX_NOTICE_CHARS = 1000
STATES = ("open", "closed", "all")


def list_incidents(session: Session, state: str = "all", limit: int = 100) -> list[tuple[Incident, int]]:
    """Newest first, each with how many orders it affects."""
    counts = (select(IncidentOrder.incident_id, func.count().label("n"))
              .group_by(IncidentOrder.incident_id).subquery())
    query = select(Incident, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.incident_id == Incident.id)
    if state != "all":
        query = query.where(Incident.state == state)
    return [(i, n) for i, n in session.execute(
        query.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)).all()]


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise ApiError(404, "incident_not_found", _("There is no such incident."))
    return incident


def affected_chats(session: Session, order_nos: list[str]) -> dict[int, str]:
    """conversation id → the affected order it is about, for every chat linked to one."""
    if not order_nos:
        return {}
    found: dict[int, str] = {}
    for cid, order_no in session.execute(
            select(ConversationOrder.conversation_id, ConversationOrder.order_no)
            .where(ConversationOrder.order_no.in_(order_nos))):
        found.setdefault(cid, order_no)
    for cid, attached in session.execute(
            select(Conversation.id, Conversation.attached_order_no)
            .where(Conversation.attached_order_no.in_(order_nos))):
        if attached:
            found.setdefault(cid, attached)
    return found


def notify(session: Session, incident_id: int, message: object, actor: User) -> dict:
    """One notice to every affected customer's chat.  The same text twice stores one
    message per chat (its client_id is derived from the incident and the text)."""
    incident = get_incident(session, incident_id)
    if incident.state != "open":
        raise ApiError(409, "incident_closed", _("This incident is closed."))
    text = message.strip() if isinstance(message, str) else ""
    if not text or len(text) > MAX_NOTICE_CHARS:
        raise ApiError(400, "invalid_message",
                       _("The notice must be text of 1 to %(limit)s characters.",
                         limit=MAX_NOTICE_CHARS))
    order_nos = list(session.execute(select(IncidentOrder.order_no).where(
        IncidentOrder.incident_id == incident.id)).scalars())
    chats = affected_chats(session, order_nos)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    conversations = session.execute(select(Conversation).where(
        Conversation.id.in_(list(chats)))).scalars().all() if chats else []
    for conversation in conversations:
        send_notice(conversation, text, f"incident:{incident.id}:{digest}", chats[conversation.id])
    incident = get_incident(session, incident_id)
    incident.notice, incident.notified_at = text, utcnow()
    incident.notified_chats = len(conversations)
    audit("incident_notified", actor=actor, incident_id=incident.id, message=text,
          chats=len(conversations), orders=len(order_nos))
    session.commit()
    return {"incident_id": incident.id, "chats": len(conversations), "orders": len(order_nos)}


def close(session: Session, incident_id: int, actor: User) -> Incident:
    """Closing twice is harmless: the second call changes and audits nothing."""
    incident = get_incident(session, incident_id)
    if incident.state != "closed":
        incident.state, incident.closed_at, incident.closed_by = "closed", utcnow(), actor.name
        audit("incident_closed", actor=actor, incident_id=incident.id,
              dimension=incident.dimension, value=incident.value)
        session.commit()
    return incident


def open_chats_for(session: Session, order_nos: list[str]) -> dict[str, int]:
    """order_no → its latest unresolved chat, for the stuck-orders list."""
    if not order_nos:
        return {}
    rows = session.execute(
        select(ConversationOrder.order_no, Conversation.id)
        .join(Conversation, Conversation.id == ConversationOrder.conversation_id)
        .where(ConversationOrder.order_no.in_(order_nos),
               or_(Conversation.status != "resolved", Conversation.status.is_(None)))
        .order_by(Conversation.id)).all()
    return {order_no: cid for order_no, cid in rows}
