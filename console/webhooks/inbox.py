"""Pushed order changes, kept in the console DB until the order watcher has read them.

``record`` stores a verified delivery (and spends its nonce in the same transaction);
``pushed_since(session, cursor)`` answers like ``OrderStore.changed_since``: the changes
after the cursor, oldest first, and the next cursor.  A watcher polls both with one loop,
so a shop's pushes and its changes feed take the same path.  ``order_pushed`` (in
``console.signals``) also fires after each delivery so an in-process watcher can wake now.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from adapters.base import OrderChange
from console.extensions import db
from console.models import UtcDateTime, utcnow

KEEP = timedelta(days=7)        # pushed changes older than this are swept
NONCE_KEEP = timedelta(hours=1)  # far longer than the signature window
BATCH = 1000


class PushedChange(db.Model):
    __tablename__ = "pushed_order_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    category: Mapped[str | None] = mapped_column(String(32))
    supplier: Mapped[str | None] = mapped_column(String(120))
    operator: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class WebhookNonce(db.Model):
    __tablename__ = "webhook_nonces"

    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


def record(session: Session, nonce: str, changes: Sequence[OrderChange]) -> int:
    """Spend ``nonce`` and queue ``changes``; flushes the nonce first (IntegrityError: replay)."""
    now = utcnow()
    session.add(WebhookNonce(nonce=nonce, received_at=now))
    session.flush()
    session.add_all(PushedChange(order_no=c.order_no, status=c.status, at=c.at,
                                 category=c.category, supplier=c.supplier,
                                 operator=c.operator, region=c.region, received_at=now)
                    for c in changes)
    session.execute(delete(WebhookNonce).where(WebhookNonce.received_at < now - NONCE_KEEP))
    session.execute(delete(PushedChange).where(PushedChange.received_at < now - KEEP))
    return len(changes)


def pushed_since(session: Session, cursor: str | None,
                 limit: int = BATCH) -> tuple[list[OrderChange], str]:
    """Changes pushed after ``cursor`` (None: from now on), oldest first, and the next cursor."""
    if cursor is None or not cursor.isdigit():
        last = session.execute(select(func.max(PushedChange.id))).scalar() or 0
        return [], str(last)
    rows = session.execute(select(PushedChange).where(PushedChange.id > int(cursor))
                           .order_by(PushedChange.id).limit(limit)).scalars().all()
    if not rows:
        return [], cursor
    return [OrderChange(r.order_no, r.status, r.at, r.category, r.supplier, r.operator,
                        r.region) for r in rows], str(rows[-1].id)
