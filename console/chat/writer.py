"""Group commit for chat messages (SQLite and PostgreSQL).

A SQLite commit waits for the disk (an fsync: 0.1 ms on a fast SSD, 4-12 ms on slower
disks) and only one can run at a time, so one commit per message caps a process at
~100-200 messages/s on such disks and queues everyone behind them.  Here the messages that arrive while a commit is running are written together in
the next transaction: one fsync for the whole group, the same durability per message
(nobody is acknowledged before the group's commit returns).

Leader/follower: each caller adds its draft to ``pending`` and waits for the gate; whoever
gets the gate with its draft still unwritten becomes the leader and writes *all* pending
drafts (its own and the followers'); a follower that gets the gate finds its result ready.
Under gevent the group is written on the hub itself: handing it to a pool thread looked
attractive (the hub keeps serving during the fsync) but measured far worse, because that
thread must win the GIL back from the busy hub after every SQLite call (5 ms switch
interval each time).  PostgreSQL commits concurrently, but every transaction is still a
round trip and a WAL flush; grouping them here took the chat benchmark's p99 with a
PostgreSQL console DB from 72 to 42 ms.
"""
from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached

from console.chat import history, service
from console.chat.models import Conversation, Message
from console.chat.service import AgentRef
from console.models import utcnow

_CONVERSATIONS = Conversation.__table__
_MESSAGES = Message.__table__


@dataclass
class Draft:
    conversation_id: int
    fields: dict
    done: bool = False
    result: tuple[Message, Conversation, bool] | None = None  # detached, fully loaded
    error: Exception | None = None


@dataclass
class _Group:
    pending: list[Draft] = field(default_factory=list)
    guard: threading.Lock = field(default_factory=threading.Lock)
    gate: object = None


_group = _Group()


def write(session: Session, conversation_id: int, *, sender_kind: str, body: object,
          client_id: object = None, agent: AgentRef | None = None,
          attachment_id: int | None = None, order_no: str | None = None,
          customer_extra: dict | None = None) -> tuple[Message, Conversation, bool]:
    """``service.post_message`` with group commit; answers with rows of ``session``."""
    draft = Draft(conversation_id, {
        "sender_kind": sender_kind, "body": service.clean_body(body, attachment_id),
        "client_id": service.clean_client_id(client_id), "agent": agent,
        "attachment_id": attachment_id, "order_no": order_no,
        "customer_extra": customer_extra})
    service._sender_key(sender_kind, agent)  # refuse a malformed call before queueing
    session.commit()  # hold no pooled connection while waiting for the group
    with _group.guard:
        _group.pending.append(draft)
    with _gate():
        if not draft.done:
            with _group.guard:
                batch, _group.pending[:] = list(_group.pending), []
            try:
                _write_group(session.get_bind(), batch)
            except Exception as exc:  # nobody may wait forever for a group that failed
                for other in batch:
                    if not other.done:
                        other.error, other.done = exc, True
    if draft.error is not None:
        raise draft.error
    assert draft.result is not None, "a finished draft has a result or an error"
    message, conversation, created = draft.result
    # the rows as the group wrote them, without reading them back (two SELECTs a message)
    return (session.merge(message, load=False), session.merge(conversation, load=False),
            created)


def _gate():
    if _group.gate is None:  # made on first use, after gevent's monkey-patching if any
        _group.gate = threading.Lock()
    return _group.gate


def _writer_lock(engine):
    """SQLite: queue behind the process's other writers (see ``service._writing``);
    PostgreSQL locks the conversation row itself."""
    return service._SQLITE_WRITER if engine.dialect.name == "sqlite" else nullcontext()


def _write_group(engine, batch: list[Draft]) -> None:
    """All drafts in one transaction; if anything in it clashes (another process wrote the
    same client_id meanwhile), roll back and write them one by one, the slow careful way."""
    try:
        with _writer_lock(engine), engine.begin() as conn:
            for draft in batch:
                _write_one(conn, draft)
        for draft in batch:
            draft.done = True
        return
    except (IntegrityError, OperationalError):
        for draft in batch:
            draft.result, draft.error = None, None
    for draft in batch:
        with Session(engine, expire_on_commit=False) as session:
            try:
                draft.result = service.post_message(session, draft.conversation_id,
                                                    **draft.fields)
            except Exception as exc:  # handed to the waiting caller, who raises it
                draft.error = exc
            draft.done = True


def _write_one(conn: Connection, draft: Draft) -> None:
    """One message in SQL statements rather than through a Session: the unit of work, the
    identity map and their commit bookkeeping cost about as much CPU as the rest of the
    message's handling.  The conversation's rules still live in one place
    (``service._apply_effects``), run here on plain ORM objects; what they changed is
    written back.  No look-up of ``client_id`` first: a re-send is rare, and when one comes
    the unique constraint fails the group, which is then written the careful way above."""
    fields = draft.fields
    cid = draft.conversation_id
    if fields["attachment_id"] is not None:  # before the counter moves: refusals write nothing
        try:
            service._check_attachment(conn, cid, fields["attachment_id"])
        except service.ChatError as exc:
            draft.error = exc
            return
    row = conn.execute(update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == cid)
                       .values(last_seq=_CONVERSATIONS.c.last_seq + 1)
                       .returning(*_CONVERSATIONS.c)).mappings().one_or_none()
    if row is None:
        draft.error = service.no_such_conversation()
        return
    conversation = Conversation(**row)
    agent = fields["agent"]
    now = utcnow()
    message = Message(
        conversation_id=cid, seq=row["last_seq"],
        sender_key=service._sender_key(fields["sender_kind"], agent),
        client_id=fields["client_id"], sender_kind=fields["sender_kind"],
        sender_id=agent.id if agent else None, sender_name=agent.name if agent else None,
        body=fields["body"], attachment_id=fields["attachment_id"],
        order_no=fields["order_no"], customer_extra=fields["customer_extra"], sent_at=now)
    steps = service._apply_effects(conversation, message, agent, now)
    changed = {name: getattr(conversation, name) for name in row
               if getattr(conversation, name) != row[name]}
    if changed:
        conn.execute(update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == cid).values(**changed))
    values = {column.name: getattr(message, column.name) for column in _MESSAGES.c
              if column.name != "id"}
    message.id = conn.execute(insert(_MESSAGES).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    history.write(conn, steps,
                  changed=[cid] if changed.keys() & set(history.SUMMARY_FIELDS) else [])
    # with their keys set they can join the caller's session as stored rows (merge, no SELECT)
    make_transient_to_detached(conversation)
    make_transient_to_detached(message)
    draft.result = (message, conversation, True)
