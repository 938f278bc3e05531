"""What agents add to an order inside the console: internal notes and tags.

They live in the console database, keyed by order number, because the order store
belongs to the shop and may be read-only; nothing here is ever shown to a customer.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.models import UtcDateTime, utcnow

TAG_MAX = 40
NOTE_MAX = 4000


class AgentNote(db.Model):
    """An internal note on an order; append-only like the audit trail it complements."""

    __tablename__ = "order_notes"
    __table_args__ = (Index("ix_order_notes_order", "order_no", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AgentTag(db.Model):
    """One tag on one order (``repeat buyer``, ``suspicious``...); searchable by tag."""

    __tablename__ = "order_agent_tags"
    __table_args__ = (
        UniqueConstraint("order_no", "tag", name="uq_order_agent_tags"),
        Index("ix_order_agent_tags_tag", "tag", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(TAG_MAX))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_by_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
