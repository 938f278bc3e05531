"""Live chat's rules as plain functions taking the console DB session (and the order store).

This module holds the conversation's life, the part that stamps times: messages (stored,
resumed, read) and assignment (take, hand over, resolve, reopen, auto-assign, the inbox
lists).  The other features have their own modules, named here too so callers (views,
socket handlers) find the whole service in one place: ``conversations`` (access, starting
one, ``ChatError``, ``AgentRef``), ``presence`` (agents online and their limits),
``order_links`` (verified orders, after-sales chats) and ``canned`` (canned replies).

Every message is committed before anyone is told about it: callers acknowledge and emit
only what these functions return.  ``seq`` comes from ``Conversation.last_seq``, bumped by
one ``UPDATE ... RETURNING`` inside the same transaction as the insert, so two writers on
one conversation are serialised by the row (PostgreSQL) or the database lock (SQLite) and
a failed insert gives its number back on rollback: seqs have no gaps and no twins.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, scoped_session, selectinload

from console.chat import history
from console.chat.canned import (
    delete_canned,
    list_canned,
    render_canned,
    save_canned,
)
from console.chat.conversations import (
    MAX_BODY_CHARS,
    AgentRef,
    ChatError,
    can_view,
    check_customer_key,
    get_conversation,
    mark_assigned,
    no_such_conversation,
    require_view,
    require_write,
    start_conversation,
)
from console.chat.models import (
    AgentPresence,
    Attachment,
    Conversation,
    Message,
)
from console.chat.order_links import (
    MAX_ORDER_NO,
    attach_for_after_sales,
    conversation_order,
    conversations_for_order,
    customer_contact,
    likely_orders,
    link_order,
    load_order,
    open_for_order,
    require_verified,
    verified_conversation_ids,
    verified_order_nos,
    verify_order,
)
from console.chat.presence import (
    DEFAULT_AGENT_LIMIT,
    ONLINE_GRACE,
    agent_connected,
    agent_disconnected,
    agents_overview,
    is_online,
    set_presence,
)
from console.models import User, utcnow

MAX_CLIENT_ID_CHARS = 80
RESUME_PAGE = 500


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
    before = _summarised(conversation)
    steps = _apply_effects(conversation, message, agent, now)
    session.flush()
    history.write(session, steps,
                  changed=[conversation_id] if _summarised(conversation) != before else [])
    return message, conversation


def _summarised(conversation: Conversation) -> tuple:
    """The conversation's values its summary copies (console/chat/history.py)."""
    return tuple(getattr(conversation, name) for name in history.SUMMARY_FIELDS)


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
            steps.append(mark_assigned(conversation, agent.id, now))
    return steps


def messages_after(session: Session, conversation_id: int, after_seq: Any, *,
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


def mark_read(session: Session, conversation_id: int, reader: str, seq: Any) -> int | None:
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
    return seq if result.rowcount else None  # type: ignore[attr-defined]  # DML: a CursorResult


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
    moved = conversation.assignee_id != agent_id
    conversation.assignee_id = agent_id
    conversation.assigned_at = conversation.assigned_at or now
    if conversation.status == "open":
        conversation.status = "assigned"
    if moved:  # after the change: the summary written with the step reads it
        history.write(session, [history.event(conversation.id, "assigned", agent_id, now)])


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
            steps.append(mark_assigned(conversation, agent.id, now))
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
        if taken.rowcount == 0:  # type: ignore[attr-defined]  # DML: a CursorResult
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
        order: tuple[Any, ...] = (Conversation.resolved_at.desc(), Conversation.id.desc())
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


__all__ = [
    "AgentRef",
    "ChatError",
    "DEFAULT_AGENT_LIMIT",
    "MAX_BODY_CHARS",
    "MAX_CLIENT_ID_CHARS",
    "MAX_ORDER_NO",
    "ONLINE_GRACE",
    "RESUME_PAGE",
    "agent_connected",
    "agent_disconnected",
    "agents_overview",
    "assign_to",
    "attach_for_after_sales",
    "auto_assign",
    "can_view",
    "check_customer_key",
    "clean_body",
    "clean_client_id",
    "conversation_order",
    "conversations_for_order",
    "customer_contact",
    "delete_canned",
    "get_conversation",
    "is_online",
    "likely_orders",
    "link_order",
    "list_canned",
    "list_conversations",
    "load_order",
    "mark_assigned",
    "mark_read",
    "messages_after",
    "no_such_conversation",
    "oldest_waiting",
    "open_for_order",
    "post_message",
    "render_canned",
    "reopen",
    "require_verified",
    "require_view",
    "require_write",
    "resolve",
    "save_canned",
    "set_presence",
    "start_conversation",
    "take",
    "verified_conversation_ids",
    "verified_order_nos",
    "verify_order",
]
