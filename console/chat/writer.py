"""Group commit for chat messages on SQLite.

A SQLite commit waits for the disk (fsync, 4-12 ms here) and only one can run at a time,
so one commit per message caps a process at ~100-200 messages/s and queues everyone behind
the disk.  Here the messages that arrive while a commit is running are written together in
the next transaction: one fsync for the whole group, the same durability per message
(nobody is acknowledged before the group's commit returns).

Leader/follower: each caller adds its draft to ``pending`` and waits for the gate; whoever
gets the gate with its draft still unwritten becomes the leader and writes *all* pending
drafts (its own and the followers'); a follower that gets the gate finds its result ready.
Under gevent the group is written on the hub itself: handing it to a pool thread looked
attractive (the hub keeps serving during the fsync) but measured far worse, because that
thread must win the GIL back from the busy hub after every SQLite call (5 ms switch
interval each time).  PostgreSQL does group commit itself and does not come here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from console.chat import service
from console.chat.models import Conversation, Message
from console.chat.service import AgentRef


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
    message, conversation, created = draft.result
    # the rows as the group wrote them, without reading them back (two SELECTs a message)
    return (session.merge(message, load=False), session.merge(conversation, load=False),
            created)


def _gate():
    if _group.gate is None:  # made on first use, after gevent's monkey-patching if any
        _group.gate = threading.Lock()
    return _group.gate


def _write_group(engine, batch: list[Draft]) -> None:
    """All drafts in one transaction; if anything in it clashes (another process wrote the
    same client_id meanwhile), roll back and write them one by one, the slow careful way."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            with service._writing(session):
                for draft in batch:
                    _write_one(session, draft)
                session.commit()
            for draft in batch:
                draft.done = True
            return
        except (IntegrityError, OperationalError):
            session.rollback()
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


def _write_one(session: Session, draft: Draft) -> None:
    """No look-up of ``client_id`` first: a re-send is rare, and when one comes the unique
    constraint fails the group, which is then written the careful way above."""
    fields = draft.fields
    sender_key = service._sender_key(fields["sender_kind"], fields["agent"])
    try:
        message, conversation = service._insert(
            session, draft.conversation_id, fields["sender_kind"], sender_key, fields["body"],
            fields["client_id"], fields["agent"], fields["attachment_id"], fields["order_no"],
            fields["customer_extra"])
    except service.ChatError as exc:  # refused before anything was written
        draft.error = exc
        return
    draft.result = (message, conversation, True)
