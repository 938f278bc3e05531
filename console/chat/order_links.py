"""Orders in the chat: a customer verifies an order, agents open after-sales chats from
an order, and each side sees the orders linked to a conversation."""
from __future__ import annotations

import hmac
import secrets

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.base import Contact, Order, OrderNotFound, OrderStore, OrderSummary
from console.chat import history, verification
from console.chat.conversations import AgentRef, ChatError, can_view
from console.chat.models import Conversation, ConversationOrder
from console.models import utcnow

MAX_ORDER_NO = 64


def verify_order(session: Session, store: OrderStore, conversation: Conversation,
                 order_no: object, phone_tail: object = None,
                 search_password: object = None, address: str | None = None) -> Order:
    """Link an order the customer proves is theirs (phone tail or the shop's search password).

    Wrong answers and unknown numbers look the same, so the widget cannot be used to find
    out which order numbers exist; attempts are limited per conversation, per address, per
    order number and overall (console/chat/verification.py).
    """
    order_no = str(order_no or "").strip()
    if not order_no or not (phone_tail or search_password):
        raise ChatError(400, "invalid_request",
                        _("Give the order number and the last digits of the phone, or the "
                          "order's search password."))
    if len(order_no) > MAX_ORDER_NO:
        raise ChatError(400, "invalid_order_no", _("That is not an order number."))
    via = "phone_tail" if phone_tail else "search_password"
    attempt = verification.reserve(session, conversation.id, address, order_no, via)
    order = load_order(store, order_no)
    if order is None or not _proves(order, phone_tail, search_password):
        attempt.wrong()
        raise ChatError(403, "order_not_verified",
                        _("That order number and answer do not match any order."))
    attempt.right()
    link_order(session, conversation, order.order_no, via)
    session.commit()
    return order


def load_order(store: OrderStore, order_no: str) -> Order | None:
    try:
        return store.get(order_no)
    except OrderNotFound:
        return None


def _proves(order: Order, phone_tail: object, search_password: object) -> bool:
    if phone_tail:
        tail = "".join(ch for ch in str(phone_tail) if ch.isdigit())
        phone = "".join(ch for ch in (order.buyer.phone or "") if ch.isdigit())
        if len(tail) < 4 or len(phone) < len(tail):
            return False
        return hmac.compare_digest(phone[-len(tail):], tail)
    if search_password and order.search_password:
        return hmac.compare_digest(str(search_password).strip().encode(),
                                   order.search_password.encode())
    return False


def link_order(session: Session, conversation: Conversation, order_no: str,
               via: str) -> ConversationOrder:
    existing = session.execute(select(ConversationOrder).where(
        ConversationOrder.conversation_id == conversation.id,
        ConversationOrder.order_no == order_no)).scalar_one_or_none()
    if existing is not None:
        return existing
    link = ConversationOrder(conversation_id=conversation.id, order_no=order_no, via=via,
                             verified=True)
    session.add(link)
    session.flush()
    return link


def verified_order_nos(session: Session, conversation_id: int) -> list[str]:
    return list(session.execute(
        select(ConversationOrder.order_no).where(
            ConversationOrder.conversation_id == conversation_id)
        .order_by(ConversationOrder.id)).scalars())


def verified_conversation_ids(session: Session, order_no: str) -> list[int]:
    """Conversations whose customer proved the order is theirs (not merely attached)."""
    return list(session.execute(
        select(ConversationOrder.conversation_id).where(
            ConversationOrder.order_no == order_no,
            ConversationOrder.via.in_(("phone_tail", "search_password")))).scalars())


def require_verified(session: Session, conversation: Conversation, order_no: str) -> None:
    if order_no not in verified_order_nos(session, conversation.id):
        raise ChatError(403, "order_not_verified", _("Verify this order in the chat first."))


def conversations_for_order(session: Session, order_no: str) -> list[Conversation]:
    """Every conversation the order is linked to, for proactive status messages."""
    linked = select(ConversationOrder.conversation_id).where(
        ConversationOrder.order_no == order_no)
    return list(session.execute(
        select(Conversation).where(or_(Conversation.id.in_(linked),
                                       Conversation.attached_order_no == order_no))
        .order_by(Conversation.id)).scalars())


def open_for_order(session: Session, store: OrderStore, order_no: str,
                   agent: AgentRef) -> tuple[Conversation, bool]:
    """The order's after-sales conversation: the latest unresolved one, or a new one with
    the buyer's contacts from the store, assigned to the agent who asked."""
    order_no = order_no.strip()
    for conversation in reversed(conversations_for_order(session, order_no)):
        if conversation.status != "resolved" and can_view(agent, conversation):
            return conversation, False
    order = store.get(order_no)
    now = utcnow()
    conversation = Conversation(
        customer_key=secrets.token_urlsafe(24), status="assigned", lang="zh_CN",
        customer_user_id=order.buyer.account, customer_email=(order.buyer.email or None),
        customer_phone=order.buyer.phone, identity_verified=True,
        attached_order_no=order.order_no, assignee_id=agent.id, assigned_at=now,
        opened_at=now)
    session.add(conversation)
    session.flush()
    history.write(session, [history.event(conversation.id, "assigned", agent.id, now)])
    link_order(session, conversation, order.order_no, "agent")
    session.commit()
    return conversation, True


def attach_for_after_sales(session: Session, conversation: Conversation, order_no: str) -> None:
    require_verified(session, conversation, order_no)
    conversation.attached_order_no = order_no
    session.commit()


def customer_contact(session: Session, store: OrderStore,
                     conversation: Conversation) -> Contact | None:
    """How to find the customer's other orders: the signed identity, else the buyer of the
    first verified order."""
    if conversation.customer_user_id or conversation.customer_email or conversation.customer_phone:
        return Contact(account=conversation.customer_user_id, email=conversation.customer_email,
                       phone=conversation.customer_phone)
    for order_no in verified_order_nos(session, conversation.id):
        order = load_order(store, order_no)
        if order is not None:
            return Contact(account=order.buyer.account, email=order.buyer.email,
                           phone=order.buyer.phone)
    return None


def likely_orders(session: Session, store: OrderStore, conversation: Conversation,
                  limit: int = 20) -> list[OrderSummary]:
    contact = customer_contact(session, store, conversation)
    return store.orders_for_customer(contact, limit=limit) if contact else []


def conversation_order(session: Session, store: OrderStore,
                       conversation: Conversation) -> Order | None:
    """The order a reply is about: the attached one, else the latest verified one."""
    candidates = ([conversation.attached_order_no] if conversation.attached_order_no else []) + \
        list(reversed(verified_order_nos(session, conversation.id)))
    for order_no in candidates:
        order = load_order(store, order_no)
        if order is not None:
            return order
    return None
