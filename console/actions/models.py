"""The console's record of actions on orders: what was asked, decided and done, and the
idempotency records that make a repeated request return its first answer.

Money is kept as integer cents (exact on every backend); times are aware UTC.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import overload

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.models import UtcDateTime, utcnow

ACTION_KINDS = ("refund", "reissue", "cancel", "edit")
ACTION_STATES = ("done", "pending_approval", "rejected", "failed")
ACTION_FINAL = frozenset({"done", "rejected", "failed"})
EDIT_STATES = ("pending", "approved", "applied", "rejected", "refused")
EDIT_FINAL = frozenset({"approved", "applied", "rejected", "refused"})
EDIT_VIA = ("agent", "customer")
IDEMPOTENCY_RETENTION = timedelta(hours=24)
CENTS = Decimal(100)


@overload
def to_cents(value: Decimal) -> int: ...
@overload
def to_cents(value: None) -> None: ...
def to_cents(value: Decimal | None) -> int | None:
    return None if value is None else int((value * CENTS).to_integral_value())


@overload
def from_cents(value: int) -> Decimal: ...
@overload
def from_cents(value: None) -> None: ...
def from_cents(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / CENTS).quantize(Decimal("0.01"))


class Action(db.Model):
    """One refund, reissue, cancel or applied edit, from request to outcome."""

    __tablename__ = "order_actions"
    __table_args__ = (
        Index("ix_order_actions_order", "order_no", "created_at"),
        Index("ix_order_actions_state", "state", "created_at"),
        Index("ix_order_actions_requester", "requester_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    order_no: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requester_name: Mapped[str] = mapped_column(String(80))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_name: Mapped[str | None] = mapped_column(String(80))
    decision_note: Mapped[str | None] = mapped_column(Text)
    manual_reference: Mapped[str | None] = mapped_column(String(120))
    # the key the order store sees: derived from the request, so a retry after a console
    # failure can never act twice in the store
    store_key: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def amount(self) -> Decimal | None:
        return from_cents(self.amount_cents)


class IdempotencyRecord(db.Model):
    """The first answer to (actor, key): replayed for the same request, refused for another.

    Only requests that changed something are kept; they expire after the retention period.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("actor", "key", name="uq_idempotency_actor_key"),
        Index("ix_idempotency_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(96))
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EditRequest(db.Model):
    """A customer's wish to change an order before delivery, until someone decides."""

    __tablename__ = "edit_requests"
    __table_args__ = (
        Index("ix_edit_requests_order", "order_no", "created_at"),
        Index("ix_edit_requests_state", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(16), default="agent")
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(String(80), default="customer")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(80))
    store_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def decided_by(self) -> str | None:
        return self.decided_by_name

    def as_json(self) -> dict:
        return {
            "id": self.id, "order_no": self.order_no, "changes": self.changes,
            "reason": self.reason, "via": self.via, "conversation_id": self.conversation_id,
            "state": self.state, "note": self.note, "requested_by": self.requested_by_name,
            "decided_by": self.decided_by_name, "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at), "decided_at": _iso(self.decided_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
