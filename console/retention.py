"""Data retention: what the console forgets once it is older than the configured period.

Chats are the bulk of the personal data the console holds, so past the period (default two
years, ``KAMIDESK_RETENTION``) a conversation's messages, uploaded screenshots (rows and
files) and order links are deleted, and the conversation row is anonymised (contacts and
preview cleared, its widget key replaced) so response-time figures keep their history.
Agents' notes and stored idempotent replies are deleted; decided actions and edit requests
keep their amounts and states (money records) but lose their free text and requested values.

Audit records are kept: the trail is append-only and the database refuses to delete it
(see ``console.schema``); the dry run counts how many are older than the period so an
operator can archive them with the owner role if the law requires (README: Data retention).

Every step works in batches, one transaction each, so an interrupted run leaves each
record either untouched or fully processed; running again finishes the job.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from console.actions.models import Action, EditRequest, IdempotencyRecord
from console.chat.models import Attachment, Conversation, ConversationOrder, Message
from console.chat.uploads import upload_folder
from console.models import AuditRecord
from console.orders.models import AgentNote

ANONYMOUS_KEY_PREFIX = "anon-"
REMOVED = "[removed by retention]"
AUDIT_KEPT = "audit_records kept (append-only)"
BATCH = 500
_PERIOD = re.compile(r"^\s*(\d+)\s*([ymwd])\s*$", re.IGNORECASE)


class BadPeriod(ValueError):
    pass


def cutoff_for(period: str, now: datetime) -> datetime:
    """``2y``, ``18m``, ``6w`` or ``90d`` before ``now`` (calendar years and months)."""
    match = _PERIOD.match(period or "")
    if not match:
        raise BadPeriod(f"{period!r} is not a period such as 2y, 18m, 6w or 90d")
    count, unit = int(match.group(1)), match.group(2).lower()
    if count <= 0:
        raise BadPeriod("the period must be longer than zero")
    if unit == "d":
        return now - timedelta(days=count)
    if unit == "w":
        return now - timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, _days_in(year, month + 1))
    return now.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@dataclass
class Report:
    """Rows per table and what happened to them (``deleted``, ``anonymised``, ``kept``)."""

    cutoff: datetime
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"{name:<36} {count:>9,}" for name, count in self.counts.items()]


def _old_conversations(cutoff: datetime) -> Select:
    last = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    return select(Conversation.id).where(
        last < cutoff, ~Conversation.customer_key.startswith(ANONYMOUS_KEY_PREFIX))


def _count(session: Session, query: Select) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _in_old(column, cutoff: datetime):
    return column.in_(_old_conversations(cutoff).scalar_subquery())


def _decided_actions(cutoff: datetime) -> Select:
    return select(Action.id).where(Action.created_at < cutoff,
                                   Action.state != "pending_approval", Action.reason != REMOVED)


def _decided_edits(cutoff: datetime) -> Select:
    return select(EditRequest.id).where(EditRequest.created_at < cutoff,
                                        EditRequest.state != "pending",
                                        EditRequest.reason != REMOVED)


def plan(session: Session, cutoff: datetime) -> Report:
    """What a run would do now; changes nothing."""
    counts = {
        "chat_conversations anonymised": _count(session, _old_conversations(cutoff)),
        "chat_messages deleted": _count(session, select(Message.id).where(
            _in_old(Message.conversation_id, cutoff))),
        "chat_attachments deleted (and files)": _count(session, select(Attachment.id).where(
            _in_old(Attachment.conversation_id, cutoff))),
        "chat_conversation_orders deleted": _count(session, select(ConversationOrder.id).where(
            _in_old(ConversationOrder.conversation_id, cutoff))),
        "order_notes deleted": _count(session, select(AgentNote.id).where(
            AgentNote.created_at < cutoff)),
        "idempotency_records deleted": _count(session, select(IdempotencyRecord.id).where(
            IdempotencyRecord.created_at < cutoff)),
        "order_actions anonymised": _count(session, _decided_actions(cutoff)),
        "edit_requests anonymised": _count(session, _decided_edits(cutoff)),
        AUDIT_KEPT: _count(session, select(AuditRecord.id).where(
            AuditRecord.at < cutoff)),
    }
    return Report(cutoff, counts)


def run(session: Session, cutoff: datetime, instance_path: str | Path,
        advance: Callable[[int], None] = lambda n: None) -> Report:
    """Apply the plan in batches; ``advance(n)`` is told how many rows each batch handled."""
    before = plan(session, cutoff)
    done = Report(cutoff, {name: 0 for name in before.counts})
    done.counts[AUDIT_KEPT] = before.counts[AUDIT_KEPT]
    folder = upload_folder(instance_path)
    while ids := list(session.execute(_old_conversations(cutoff).limit(BATCH)).scalars()):
        advance(_forget_conversations(session, ids, folder, done.counts))
    for name, model, created in (("order_notes deleted", AgentNote, AgentNote.created_at),
                                 ("idempotency_records deleted", IdempotencyRecord,
                                  IdempotencyRecord.created_at)):
        while ids := list(session.execute(select(model.id).where(created < cutoff)
                                          .limit(BATCH)).scalars()):
            session.execute(delete(model).where(model.id.in_(ids)))
            session.commit()
            done.counts[name] += len(ids)
            advance(len(ids))
    while ids := list(session.execute(_decided_actions(cutoff).limit(BATCH)).scalars()):
        session.execute(update(Action).where(Action.id.in_(ids)).values(
            reason=REMOVED, decision_note=None, manual_reference=None))
        session.commit()
        done.counts["order_actions anonymised"] += len(ids)
        advance(len(ids))
    while ids := list(session.execute(_decided_edits(cutoff).limit(BATCH)).scalars()):
        for edit in session.execute(select(EditRequest).where(EditRequest.id.in_(ids))).scalars():
            edit.changes = {name: REMOVED for name in (edit.changes or {})}
            edit.reason, edit.note = REMOVED, None
        session.commit()
        done.counts["edit_requests anonymised"] += len(ids)
        advance(len(ids))
    return done


def _forget_conversations(session: Session, ids: list[int], folder: Path,
                          counts: dict[str, int]) -> int:
    """One batch of conversations, in one transaction; files go once it has committed."""
    files = list(session.execute(select(Attachment.stored_name)
                                 .where(Attachment.conversation_id.in_(ids))).scalars())
    # messages point at attachments, so they go first
    messages = session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    session.execute(delete(Attachment).where(Attachment.conversation_id.in_(ids)))
    links = session.execute(delete(ConversationOrder)
                            .where(ConversationOrder.conversation_id.in_(ids)))
    for conversation in session.execute(select(Conversation).where(
            Conversation.id.in_(ids))).scalars():
        conversation.customer_key = ANONYMOUS_KEY_PREFIX + secrets.token_hex(16)
        conversation.customer_user_id = conversation.customer_email = None
        conversation.customer_phone = None
        conversation.identity_verified = False
        conversation.last_preview = ""
    session.commit()
    for name in files:
        (folder / name).unlink(missing_ok=True)
    counts["chat_conversations anonymised"] += len(ids)
    counts["chat_messages deleted"] += messages.rowcount or 0  # type: ignore[attr-defined]
    counts["chat_attachments deleted (and files)"] += len(files)
    counts["chat_conversation_orders deleted"] += links.rowcount or 0  # type: ignore[attr-defined]
    return len(ids) + (messages.rowcount or 0)  # type: ignore[attr-defined]


def pending_total(report: Report) -> int:
    """Rows a run will touch (what its progress bar counts)."""
    return sum(count for name, count in report.counts.items()
               if name.startswith(("chat_conversations", "chat_messages", "order_notes",
                                   "idempotency", "order_actions", "edit_requests")))

