"""What supervisors do with an incident: read it, tell the affected customers, close it.
Each step that changes something is audited in the same transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from adapters.base import Buyer, Contact, OrderNotFound, OrderStore, StoreError
from console.audit import record as audit
from console.chat.models import Conversation, ConversationOrder
from console.chat.proactive import send_notice
from console.errors import ApiError
from console.models import User, utcnow
from console.store import get_store
from console.watching.models import Incident, IncidentOrder

MAX_NOTICE_CHARS = 1000
BUYER_ORDERS = 200  # a buyer's orders looked at for their chats
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


@dataclass
class Reach:
    """The chats a notice goes to (conversation id → the affected order it is about) and
    the affected customers (buyers), of whom ``unreached`` have no chat at all."""

    chats: dict[int, str] = field(default_factory=dict)
    customers: int = 0
    unreached: int = 0


def _buyer_key(buyer: Buyer) -> tuple[str, str, str]:
    return ((buyer.account or "").strip(), (buyer.phone or "").strip(),
            (buyer.email or "").strip().lower())


def buyers_of(store: OrderStore, order_nos: list[str]) -> dict[tuple[str, str, str], list[str]]:
    """The affected orders grouped by their buyer (account, phone, email); orders the store
    no longer finds, or without any contact, are their own customer."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for order_no in order_nos:
        try:
            key = _buyer_key(store.get(order_no).buyer)
        except (OrderNotFound, StoreError):
            key = ("", "", "")
        if key == ("", "", ""):
            key = ("", "", f"order:{order_no}")  # unknown buyer: counted alone
        found.setdefault(key, []).append(order_no)
    return found


def _chats_of_buyer(session: Session, store: OrderStore, key: tuple[str, str, str]) -> set[int]:
    """Chats of this buyer: linked to (verified for, or attached to) any of the buyer's
    orders, or opened under the shop's signed identity with the buyer's account, phone or
    email."""
    account, phone, email = key
    if not (account or phone) and (not email or email.startswith("order:")):
        return set()
    try:
        theirs = [o.order_no for o in store.orders_for_customer(
            Contact(account or None, phone or None, email or None), limit=BUYER_ORDERS)]
    except StoreError:
        theirs = []
    chats = set(affected_chats(session, theirs))
    who = [column == value for column, value in ((Conversation.customer_user_id, account),
                                                  (Conversation.customer_phone, phone),
                                                  (Conversation.customer_email, email))
           if value]
    chats.update(session.execute(select(Conversation.id).where(
        Conversation.identity_verified.is_(True), or_(*who))).scalars())
    return chats


def reach(session: Session, store: OrderStore, order_nos: list[str]) -> Reach:
    """Who a notice about ``order_nos`` reaches: the chats about those orders, and the chats
    of their buyers (about another of their orders, or signed in as them), each once."""
    found = Reach(chats=affected_chats(session, order_nos))
    about = {order_no: cid for cid, order_no in found.chats.items()}
    for key, orders in buyers_of(store, order_nos).items():
        found.customers += 1
        chats = {about[o] for o in orders if o in about} | _chats_of_buyer(session, store, key)
        for cid in sorted(chats):
            found.chats.setdefault(cid, orders[0])
        found.unreached += not chats
    return found


def notify(session: Session, incident_id: int, message: object, actor: User) -> dict:
    """One notice to every affected customer's chat (console/watching/incidents.py
    ``reach``), each chat once.  The same text twice stores one message per chat (its
    client_id is derived from the incident and the text)."""
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
    reached = reach(session, get_store(), order_nos)
    chats = reached.chats
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    conversations = session.execute(select(Conversation).where(
        Conversation.id.in_(list(chats)))).scalars().all() if chats else []
    for conversation in conversations:
        send_notice(conversation, text, f"incident:{incident.id}:{digest}", chats[conversation.id])
    incident = get_incident(session, incident_id)
    incident.notice, incident.notified_at = text, utcnow()
    incident.notified_chats = len(conversations)
    incident.affected_customers, incident.unreached_customers = \
        reached.customers, reached.unreached
    audit("incident_notified", actor=actor, incident_id=incident.id, message=text,
          chats=len(conversations), orders=len(order_nos), customers=reached.customers,
          without_chat=reached.unreached)
    session.commit()
    return {"incident_id": incident.id, "chats": len(conversations), "orders": len(order_nos),
            "customers": reached.customers, "customers_without_chat": reached.unreached}


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
