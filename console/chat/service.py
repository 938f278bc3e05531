"""Live chat's rules as plain functions taking the console DB session (and the order store).

Every message is committed before anyone is told about it: callers acknowledge and emit
only what these functions return.  ``seq`` comes from ``Conversation.last_seq``, bumped by
one ``UPDATE ... RETURNING`` inside the same transaction as the insert, so two writers on
one conversation are serialised by the row (PostgreSQL) or the database lock (SQLite) and
a failed insert gives its number back on rollback: seqs have no gaps and no twins.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, scoped_session, selectinload

from adapters.base import Contact, Order, OrderNotFound, OrderStore, OrderSummary
from console.chat import history
from console.chat.identity import CustomerIdentity
from console.chat.models import (
    AgentPresence,
    Attachment,
    CannedReply,
    Conversation,
    ConversationOrder,
    Message,
)
from console.errors import ApiError
from console.models import ROLE_RANK, User, utcnow
from console.orders.explain import explain_status, normalise_lang, status_label

MAX_BODY_CHARS = 4000
MAX_CLIENT_ID_CHARS = 80
RESUME_PAGE = 500
ONLINE_GRACE = timedelta(minutes=5)   # presence without a heartbeat this long counts as gone
MAX_VERIFY_FAILURES = 10
DEFAULT_AGENT_LIMIT = 5


class ChatError(ApiError):
    """A refusal with a stable code; sockets put it in the ack, HTTP in the error body."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(status, code, message)
        self.extra = extra

    def as_ack(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


@dataclass(frozen=True)
class AgentRef:
    """The agent acting, without holding an ORM row across a socket's lifetime."""

    id: int
    name: str
    role: str

    @classmethod
    def of(cls, user: User) -> "AgentRef":
        return cls(user.id, user.name, user.role)

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


# --- conversations ------------------------------------------------------------------------

def get_conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise no_such_conversation()
    return conversation


def no_such_conversation() -> ChatError:
    return ChatError(404, "conversation_not_found", _("There is no such conversation."))


def start_conversation(session: Session, identity: CustomerIdentity | None,
                       lang: str) -> Conversation:
    """The customer's conversation: the latest one of a signed identity, else a new one."""
    conversation = _latest_for_identity(session, identity) if identity else None
    if conversation is None:
        conversation = Conversation(customer_key=secrets.token_urlsafe(24),
                                    lang=normalise_lang(lang), status="open")
        if identity:
            conversation.customer_user_id = identity.user_id
            conversation.customer_email = identity.email
            conversation.customer_phone = identity.phone
            conversation.identity_verified = True
        session.add(conversation)
        session.commit()
    return conversation


def _latest_for_identity(session: Session, identity: CustomerIdentity) -> Conversation | None:
    clauses = []
    if identity.user_id:
        clauses.append(Conversation.customer_user_id == identity.user_id)
    if identity.email:
        clauses.append(Conversation.customer_email == identity.email)
    if identity.phone:
        clauses.append(Conversation.customer_phone == identity.phone)
    if not clauses:
        return None
    return session.execute(
        select(Conversation).where(Conversation.identity_verified.is_(True), or_(*clauses))
        .order_by(Conversation.id.desc()).limit(1)).scalar_one_or_none()


def check_customer_key(conversation: Conversation | None, key: str) -> bool:
    return conversation is not None and hmac.compare_digest(conversation.customer_key, key)


def can_view(agent: AgentRef, conversation: Conversation) -> bool:
    """Agents see the unassigned queue and their own chats; supervisors see everything."""
    return (conversation.assignee_id in (None, agent.id)) or agent.has_role("supervisor")


def require_view(agent: AgentRef, conversation: Conversation) -> None:
    if not can_view(agent, conversation):
        raise ChatError(403, "forbidden", _("This conversation is assigned to another agent."))


def require_write(agent: AgentRef, conversation: Conversation) -> None:
    require_view(agent, conversation)


# --- messages -----------------------------------------------------------------------------

def clean_body(body: object, attachment_id: object = None) -> str:
    """Refuse what must never be stored: non-text, empty, or longer than the limit."""
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise ChatError(400, "invalid_message", _("The message body must be text."))
    body = body.strip()
    if len(body) > MAX_BODY_CHARS:
        raise ChatError(413, "message_too_long",
                        _("Messages are limited to %(limit)s characters; this one has "
                          "%(length)s.", limit=f"{MAX_BODY_CHARS:,}", length=f"{len(body):,}"),
                        limit=MAX_BODY_CHARS)
    if not body and attachment_id is None:
        raise ChatError(400, "empty_message", _("The message is empty."))
    return body


def clean_client_id(client_id: object) -> str | None:
    if client_id in (None, ""):
        return None
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise ChatError(400, "invalid_client_id",
                        _("client_id must be text of at most %(limit)s characters.",
                          limit=MAX_CLIENT_ID_CHARS))
    return client_id


def post_message(session: Session, conversation_id: int, *, sender_kind: str, body: object,
                 client_id: object = None, agent: AgentRef | None = None,
                 attachment_id: int | None = None, order_no: str | None = None,
                 customer_extra: dict | None = None) -> tuple[Message, Conversation, bool]:
    """Store one message and return (message, conversation, created).

    A repeated ``client_id`` from the same sender returns the stored message with
    ``created=False`` and changes nothing, whatever the body says the second time.
    """
    body = clean_body(body, attachment_id)
    client_id = clean_client_id(client_id)
    sender_key = _sender_key(sender_kind, agent)
    for attempt in range(5):
        try:
            with _writing(session):
                message, conversation = _insert(session, conversation_id, sender_kind,
                                                sender_key, body, client_id, agent,
                                                attachment_id, order_no, customer_extra)
                _commit_keeping_state(session)
            return message, conversation, True
        except IntegrityError:
            # optimistic: a re-send is rare, so the unique constraint finds it rather than a
            # SELECT before every insert; the rollback gives the seq back
            session.rollback()
            existing = _by_client_id(session, conversation_id, sender_key, client_id) \
                if client_id is not None else None
            if existing is not None:
                return existing, get_conversation(session, conversation_id), False
        except OperationalError:
            # SQLite shared by several processes: back off briefly, the lock is released soon
            session.rollback()
            time.sleep(0.02 * (attempt + 1))
    raise ChatError(503, "busy", _("The message could not be stored; please send it again."))


def _commit_keeping_state(session: Session) -> None:
    """Commit without expiring what was just written: the caller reads the message and its
    conversation straight away to emit them, and re-reading rows it just wrote would cost
    three queries per message."""
    real = session() if isinstance(session, scoped_session) else session
    previous = real.expire_on_commit
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = previous


_SQLITE_WRITER = threading.Lock()


@contextmanager
def _writing(session: Session) -> Iterator[None]:
    """One writer at a time per process on SQLite.  SQLite locks the whole file; writers
    that collide wait in its busy handler, which sleeps 1, 2, 5 ... 100 ms, far longer than
    the transaction they wait for.  Queueing on a lock here costs only the transaction.
    (Under gevent it is gevent's lock: the module is imported after monkey-patching.)"""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    # never queue while holding a pooled connection: the holder of the lock may need one
    session.commit()
    with _SQLITE_WRITER:
        yield


def _sender_key(sender_kind: str, agent: AgentRef | None) -> str:
    if sender_kind == "customer":
        return "customer"
    if sender_kind in ("agent", "note"):
        if agent is None:
            raise ValueError("agent messages need the agent")
        return f"user:{agent.id}"
    return "system"


def _by_client_id(session: Session, conversation_id: int, sender_key: str,
                  client_id: str) -> Message | None:
    return session.execute(select(Message).where(
        Message.conversation_id == conversation_id, Message.sender_key == sender_key,
        Message.client_id == client_id)).scalar_one_or_none()


def _insert(session: Session, conversation_id: int, sender_kind: str, sender_key: str,
            body: str, client_id: str | None, agent: AgentRef | None,
            attachment_id: int | None, order_no: str | None,
            customer_extra: dict | None) -> tuple[Message, Conversation]:
    if attachment_id is not None:  # before the counter moves: a refusal must write nothing
        _check_attachment(session, conversation_id, attachment_id)
    # bump the counter and read the row back in one statement, under the row lock it takes,
    # so the effects below see the latest state
    conversation = session.execute(
        update(Conversation).where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1).returning(Conversation),
        execution_options={"populate_existing": True, "synchronize_session": False},
    ).scalar_one_or_none()
    if conversation is None:
        raise no_such_conversation()
    seq = conversation.last_seq
    now = utcnow()
    message = Message(conversation_id=conversation_id, seq=seq, sender_key=sender_key,
                      client_id=client_id, sender_kind=sender_kind,
                      sender_id=agent.id if agent else None,
                      sender_name=agent.name if agent else None, body=body,
                      attachment_id=attachment_id, order_no=order_no,
                      customer_extra=customer_extra, sent_at=now)
    session.add(message)
    steps = _apply_effects(conversation, message, agent, now)
    session.flush()
    history.write(session, steps)
    return message, conversation


def _check_attachment(session: Session | Connection, conversation_id: int,
                      attachment_id: int) -> None:
    owner = session.execute(select(Attachment.conversation_id)
                            .where(Attachment.id == attachment_id)).scalar_one_or_none()
    if owner is None or owner != conversation_id:
        raise ChatError(404, "attachment_not_found", _("That upload does not belong to this chat."))


def _apply_effects(conversation: Conversation, message: Message, agent: AgentRef | None,
                   now: datetime) -> list[dict]:
    """What a message does to its conversation: queue position, first response, reopen.
    Returns the history events (console/chat/history.py) the caller must write."""
    steps: list[dict] = []
    conversation.last_message_at = now
    kind = message.sender_kind
    if kind in ("customer", "agent"):
        preview = message.body or "[attachment]"
        conversation.last_preview = preview[:160]
    if kind == "customer":
        if conversation.status == "resolved":
            conversation.status = "assigned" if conversation.assignee_id else "open"
            conversation.resolved_at = None
            steps.append(history.event(conversation.id, "reopened", None, now))
        conversation.opened_at = conversation.opened_at or now
        conversation.waiting_since = conversation.waiting_since or now
    elif kind == "agent" and agent is not None:
        if conversation.first_response_at is None and conversation.opened_at is not None:
            conversation.first_response_at = now
            conversation.first_responder_id = agent.id
        conversation.waiting_since = None
        if conversation.assignee_id is None:
            steps.append(_assign(conversation, agent.id, now))
    return steps


def _assign(conversation: Conversation, agent_id: int, now: datetime) -> dict:
    conversation.assignee_id = agent_id
    conversation.assigned_at = conversation.assigned_at or now
    if conversation.status != "resolved":
        conversation.status = "assigned"
    return history.event(conversation.id, "assigned", agent_id, now)


def messages_after(session: Session, conversation_id: int, after_seq: object, *,
                   include_notes: bool, limit: int = RESUME_PAGE) -> tuple[list[Message], bool]:
    """Messages with seq > after_seq in order, and whether more remain after this page."""
    try:
        after = max(0, int(after_seq or 0))
    except (TypeError, ValueError):
        raise ChatError(400, "invalid_seq", _("after_seq must be a whole number.")) from None
    query = (select(Message).where(Message.conversation_id == conversation_id,
                                   Message.seq > after)
             .options(selectinload(Message.attachment)))
    if not include_notes:
        query = query.where(Message.sender_kind != "note")
    rows = list(session.execute(query.order_by(Message.seq).limit(limit + 1)).scalars())
    return rows[:limit], len(rows) > limit


def mark_read(session: Session, conversation_id: int, reader: str, seq: object) -> int | None:
    """Move the reader's mark forward (never back); the new mark, or None if unchanged."""
    try:
        seq = int(seq)
    except (TypeError, ValueError):
        raise ChatError(400, "invalid_seq", _("seq must be a whole number.")) from None
    column = Conversation.customer_read_seq if reader == "customer" else Conversation.agent_read_seq
    result = session.execute(
        update(Conversation).where(Conversation.id == conversation_id, column < seq,
                                   Conversation.last_seq >= seq)
        .values({column.key: seq}).execution_options(synchronize_session=False))
    session.commit()
    return seq if result.rowcount else None


# --- assignment ---------------------------------------------------------------------------

def take(session: Session, conversation_id: int, agent: AgentRef) -> Conversation:
    """Claim a conversation; a colleague's chat can only be moved by a supervisor."""
    conversation = get_conversation(session, conversation_id)
    if conversation.assignee_id not in (None, agent.id) and not agent.has_role("supervisor"):
        raise ChatError(409, "already_assigned", _("Another agent already has this conversation."))
    _assign_now(session, conversation, agent.id)
    session.commit()
    return conversation


def assign_to(session: Session, conversation_id: int, target_id: int,
              actor: AgentRef) -> Conversation:
    """Hand a conversation to someone: its current holder or a supervisor may do it."""
    conversation = get_conversation(session, conversation_id)
    if conversation.assignee_id not in (None, actor.id) and not actor.has_role("supervisor"):
        raise ChatError(403, "forbidden", _("Only its agent or a supervisor can reassign this."))
    target = session.get(User, target_id)
    if target is None or not target.active or not target.has_role("agent"):
        raise ChatError(404, "agent_not_found", _("There is no such active agent."))
    _assign_now(session, conversation, target.id)
    session.commit()
    return conversation


def _assign_now(session: Session, conversation: Conversation, agent_id: int) -> None:
    now = utcnow()
    if conversation.assignee_id != agent_id:
        history.write(session, [history.event(conversation.id, "assigned", agent_id, now)])
    conversation.assignee_id = agent_id
    conversation.assigned_at = conversation.assigned_at or now
    if conversation.status == "open":
        conversation.status = "assigned"


def resolve(session: Session, conversation_id: int, agent: AgentRef) -> Conversation:
    conversation = get_conversation(session, conversation_id)
    require_write(agent, conversation)
    if conversation.status != "resolved":
        now = utcnow()
        conversation.status = "resolved"
        conversation.resolved_at = now
        conversation.waiting_since = None
        steps = []
        if conversation.assignee_id is None:
            steps.append(_assign(conversation, agent.id, now))
            conversation.status = "resolved"
        steps.append(history.event(conversation.id, "resolved", agent.id, now))
        history.write(session, steps)
        session.commit()
    return conversation


def reopen(session: Session, conversation_id: int, agent: AgentRef) -> Conversation:
    conversation = get_conversation(session, conversation_id)
    require_write(agent, conversation)
    if conversation.status == "resolved":
        conversation.status = "assigned" if conversation.assignee_id else "open"
        conversation.resolved_at = None
        history.write(session, [history.event(conversation.id, "reopened", agent.id, utcnow())])
        session.commit()
    return conversation


def auto_assign(session: Session, conversation_id: int) -> int | None:
    """Give an unassigned conversation to the online agent whose turn it is (round-robin,
    least recently assigned first) and who is under their limit; the agent's id or None."""
    now = utcnow()
    for presence in _available_agents(session, now):
        taken = session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.assignee_id.is_(None),
                   Conversation.status == "open")
            .values(assignee_id=presence.user_id, status="assigned",
                    assigned_at=func.coalesce(Conversation.assigned_at, now))
            .execution_options(synchronize_session=False))
        if taken.rowcount == 0:
            session.rollback()
            return None  # someone took it meanwhile
        presence.last_assigned_at = now
        history.write(session, [history.event(conversation_id, "assigned", presence.user_id, now)])
        session.commit()
        session.expire_all()
        return presence.user_id
    return None


def _available_agents(session: Session, now: datetime) -> list[AgentPresence]:
    active = (select(Conversation.assignee_id, func.count().label("n"))
              .where(Conversation.status == "assigned").group_by(Conversation.assignee_id)
              .subquery())
    rows = session.execute(
        select(AgentPresence, func.coalesce(active.c.n, 0))
        .join(User, User.id == AgentPresence.user_id)
        .outerjoin(active, active.c.assignee_id == AgentPresence.user_id)
        .where(AgentPresence.status == "online", AgentPresence.connections > 0,
               AgentPresence.last_seen_at >= now - ONLINE_GRACE, User.active.is_(True))
        .order_by(case((AgentPresence.last_assigned_at.is_(None), 0), else_=1),
                  AgentPresence.last_assigned_at, AgentPresence.user_id)).all()
    return [presence for presence, count in rows if count < presence.max_active]


def oldest_waiting(session: Session) -> int | None:
    """The oldest waiting unassigned conversation, for an agent who just became free."""
    return session.execute(
        select(Conversation.id).where(Conversation.status == "open",
                                      Conversation.assignee_id.is_(None),
                                      Conversation.waiting_since.is_not(None))
        .order_by(Conversation.waiting_since).limit(1)).scalar_one_or_none()


# --- presence -----------------------------------------------------------------------------

def _presence(session: Session, user_id: int) -> AgentPresence:
    presence = session.get(AgentPresence, user_id)
    if presence is None:
        presence = AgentPresence(user_id=user_id, status="online", connections=0,
                                 max_active=DEFAULT_AGENT_LIMIT)
        session.add(presence)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            presence = session.get(AgentPresence, user_id)
    return presence


def agent_connected(session: Session, user_id: int) -> AgentPresence:
    _presence(session, user_id)
    session.execute(update(AgentPresence).where(AgentPresence.user_id == user_id)
                    .values(connections=AgentPresence.connections + 1, last_seen_at=utcnow())
                    .execution_options(synchronize_session=False))
    session.commit()
    return session.get(AgentPresence, user_id, populate_existing=True)


def agent_disconnected(session: Session, user_id: int) -> AgentPresence | None:
    session.execute(update(AgentPresence).where(AgentPresence.user_id == user_id,
                                                AgentPresence.connections > 0)
                    .values(connections=AgentPresence.connections - 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    return session.get(AgentPresence, user_id, populate_existing=True)


def set_presence(session: Session, user_id: int, status: str | None = None,
                 max_active: int | None = None) -> AgentPresence:
    """Online/away from the agent, the limit from a supervisor; also a heartbeat."""
    presence = _presence(session, user_id)
    if status is not None:
        if status not in ("online", "away"):
            raise ChatError(400, "invalid_status", _("Presence is either online or away."))
        presence.status = status
    if max_active is not None:
        if not 0 <= max_active <= 100:
            raise ChatError(400, "invalid_limit", _("The limit must be between 0 and 100."))
        presence.max_active = max_active
    presence.last_seen_at = utcnow()
    session.commit()
    return presence


def is_online(presence: AgentPresence | None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(presence and presence.status == "online" and presence.connections > 0
                and presence.last_seen_at and presence.last_seen_at >= now - ONLINE_GRACE)


def agents_overview(session: Session) -> list[dict]:
    """Every active agent with presence and how many chats they hold, for 'assign to'."""
    counts = dict(session.execute(
        select(Conversation.assignee_id, func.count()).where(Conversation.status == "assigned")
        .group_by(Conversation.assignee_id)).all())
    rows = session.execute(
        select(User, AgentPresence).outerjoin(AgentPresence, AgentPresence.user_id == User.id)
        .where(User.active.is_(True)).order_by(User.name)).all()
    now = utcnow()
    out = []
    for user, presence in rows:
        state = ("online" if is_online(presence, now) else
                 "away" if presence and presence.connections > 0 else "offline")
        out.append({"id": user.id, "name": user.name, "role": user.role, "presence": state,
                    "active": counts.get(user.id, 0),
                    "limit": presence.max_active if presence else DEFAULT_AGENT_LIMIT})
    return out


# --- the queue ----------------------------------------------------------------------------

VIEWS = ("open", "queue", "mine", "resolved")


def list_conversations(session: Session, agent: AgentRef, view: str = "open",
                       limit: int = 50, offset: int = 0) -> tuple[list[Conversation], int]:
    """Unassigned first, then oldest waiting first; only chats someone actually opened."""
    if view not in VIEWS:
        raise ChatError(400, "invalid_view", _("view must be one of %(views)s.",
                                               views=", ".join(VIEWS)))
    query = select(Conversation).where(Conversation.opened_at.is_not(None))
    if not agent.has_role("supervisor"):
        query = query.where(or_(Conversation.assignee_id.is_(None),
                                Conversation.assignee_id == agent.id))
    if view == "resolved":
        query = query.where(Conversation.status == "resolved")
        order = (Conversation.resolved_at.desc(), Conversation.id.desc())
    else:
        query = query.where(Conversation.status != "resolved")
        if view == "queue":
            query = query.where(Conversation.assignee_id.is_(None))
        elif view == "mine":
            query = query.where(Conversation.assignee_id == agent.id)
        order = (case((Conversation.assignee_id.is_(None), 0), else_=1),
                 case((Conversation.waiting_since.is_(None), 1), else_=0),
                 Conversation.waiting_since, Conversation.last_message_at.desc(),
                 Conversation.id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(*order).offset(offset).limit(limit)).scalars()
    return list(rows), total


# --- orders in the chat -------------------------------------------------------------------

def verify_order(session: Session, store: OrderStore, conversation: Conversation,
                 order_no: object, phone_tail: object = None,
                 search_password: object = None) -> Order:
    """Link an order the customer proves is theirs (phone tail or the shop's search password).

    Wrong answers and unknown numbers look the same, so the widget cannot be used to find
    out which order numbers exist; too many wrong answers lock the conversation out.
    """
    order_no = str(order_no or "").strip()
    if not order_no or not (phone_tail or search_password):
        raise ChatError(400, "invalid_request",
                        _("Give the order number and the last digits of the phone, or the "
                          "order's search password."))
    if conversation.verify_failures >= MAX_VERIFY_FAILURES:
        raise ChatError(429, "too_many_attempts",
                        _("Too many wrong answers; ask an agent to look the order up."))
    order = load_order(store, order_no)
    via = "phone_tail" if phone_tail else "search_password"
    if order is None or not _proves(order, phone_tail, search_password):
        conversation.verify_failures += 1
        session.commit()
        raise ChatError(403, "order_not_verified",
                        _("That order number and answer do not match any order."))
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


# --- canned replies -----------------------------------------------------------------------

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
