"""What happened to a conversation, one row per step: assigned, resolved, reopened.

The conversation row keeps only its latest state (a reopen clears ``resolved_at``), so the
supervisors' figures that need the past, reopen rate and each agent's handle time, read
these rows.  They are written in the same transaction as the change they describe.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from console.extensions import db
from console.models import UtcDateTime

EVENT_KINDS = ("assigned", "resolved", "reopened")


class ConversationEvent(db.Model):
    __tablename__ = "chat_conversation_events"
    __table_args__ = (Index("ix_chat_event_conv", "conversation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # assigned: the new assignee; resolved/reopened: who did it (None for the customer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


def event(conversation_id: int, kind: str, agent_id: int | None, at: datetime) -> dict:
    """One event as plain values, for callers that write with SQL statements."""
    return {"conversation_id": conversation_id, "kind": kind, "agent_id": agent_id, "at": at}


def write(target: Session | Connection, events: list[dict]) -> None:
    """Insert ``events`` in the caller's transaction (a Session or a Connection)."""
    if events:
        target.execute(insert(ConversationEvent.__table__), events)
