"""What the order watcher found, kept in the console DB so every process sees it: stuck
orders, incidents and the orders each incident affects."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.models import UtcDateTime, utcnow


class StuckAlert(db.Model):
    """An order in one status longer than its category allows; cleared when it moves on."""

    __tablename__ = "watch_stuck_alerts"
    __table_args__ = (Index("ix_watch_stuck_open", "cleared_at", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    category: Mapped[str | None] = mapped_column(String(32))
    supplier: Mapped[str | None] = mapped_column(String(80))
    operator: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(40))
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    threshold_s: Mapped[int] = mapped_column(Integer)
    flagged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Incident(db.Model):
    """A supplier, operator or region failing far more than usual, for supervisors."""

    __tablename__ = "watch_incidents"
    __table_args__ = (Index("ix_watch_incident_key", "dimension", "value", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20))  # supplier, operator, region, operator_region
    value: Mapped[str] = mapped_column(String(160))
    state: Mapped[str] = mapped_column(String(12), default="open")  # open, closed
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    window_orders: Mapped[int] = mapped_column(Integer, default=0)
    bad_orders: Mapped[int] = mapped_column(Integer, default=0)
    share: Mapped[float] = mapped_column(Float, default=0.0)
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    notice: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notified_chats: Mapped[int] = mapped_column(Integer, default=0)
    # at the last notice: the affected orders' buyers, and how many of them had no chat
    affected_customers: Mapped[int | None] = mapped_column(Integer)
    unreached_customers: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(80))

    orders: Mapped[list[IncidentOrder]] = relationship(
        back_populates="incident", order_by="IncidentOrder.id")


class IncidentOrder(db.Model):
    __tablename__ = "watch_incident_orders"
    __table_args__ = (UniqueConstraint("incident_id", "order_no", name="uq_watch_incident_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("watch_incidents.id"))
    order_no: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="orders")
