"""Order verification attempts in the widget, counted so phone tails cannot be guessed.

A four-digit tail has 10,000 values, so the attempts are counted where an attacker cannot
escape them: per widget session and per client address (``VERIFY_LIMIT``, default 5 per
15 minutes), per order number across every conversation and address
(``VERIFY_ORDER_LIMIT``, default 10 per day) and over the whole widget
(``VERIFY_GLOBAL_LIMIT``, a ceiling against guessing spread over many orders).

Each attempt *reserves* its unit in every counter with one conditional ``UPDATE`` per
counter, committed before the answer is checked: parallel guesses queue on the row (or
SQLite's write lock) and only as many as the limit allows get through; the rest get 429.
A right answer gives its units back, so only wrong answers use the allowance.  Refusals
and wrong answers are audited.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from limits import parse
from sqlalchemy import String, case, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from console import audit
from console.extensions import db
from console.ratelimits import Limited

LIMITS = {"session": "VERIFY_LIMIT", "address": "VERIFY_LIMIT",
          "order": "VERIFY_ORDER_LIMIT", "all": "VERIFY_GLOBAL_LIMIT"}


class VerifyCounter(db.Model):
    """One counter: its key (``order:<sha256>``, ``session:<id>``, ``address:<ip>``, ``all``),
    the start of its window (Unix seconds) and the attempts in it."""

    __tablename__ = "chat_verify_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[float] = mapped_column(default=0.0)
    count: Mapped[int] = mapped_column(default=0)


class TooManyAttempts(Limited):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after, code="too_many_attempts")


@dataclass(frozen=True)
class Counter:
    kind: str
    key: str
    amount: int
    period: int


def counters(conversation_id: int, address: str | None, order_no: str) -> list[Counter]:
    """Sorted by key, so concurrent reservations lock rows in the same order (no deadlock)."""
    digest = hashlib.sha256(order_no.strip().upper().encode()).hexdigest()[:64]
    keys = {"session": f"session:{conversation_id}", "address": f"address:{address or '-'}",
            "order": f"order:{digest}", "all": "all"}
    found = []
    for kind, key in keys.items():
        item = parse(current_app.config[LIMITS[kind]])
        found.append(Counter(kind, key, item.amount, item.get_expiry()))
    return sorted(found, key=lambda c: c.key)


def _take(session: Session, counter: Counter, now: float) -> bool:
    """One atomic statement: restart an expired window, or count one more inside the limit."""
    expired = VerifyCounter.window_start <= now - counter.period
    done = session.execute(
        update(VerifyCounter).where(VerifyCounter.key == counter.key,
                                    expired | (VerifyCounter.count < counter.amount))
        .values(count=case((expired, 1), else_=VerifyCounter.count + 1),
                window_start=case((expired, now), else_=VerifyCounter.window_start))
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    if done:
        return True
    try:
        with session.begin_nested():
            session.add(VerifyCounter(key=counter.key, window_start=now, count=1))
        return True
    except IntegrityError:  # the row exists and is full (or a twin just created it)
        return False


def _wait(session: Session, counter: Counter, now: float) -> int:
    row = session.get(VerifyCounter, counter.key, populate_existing=True)
    start = row.window_start if row is not None else now
    return max(1, int(start + counter.period - now + 0.999))


@dataclass
class Attempt:
    """A reserved attempt: report how it went with ``wrong`` or ``right``."""

    session: Session
    taken: list[Counter]
    order_no: str
    conversation_id: int
    via: str

    def wrong(self) -> None:
        audit.record("verify_failed", actor_name="customer", order_no=self.order_no[:64],
                     conversation_id=self.conversation_id, via=self.via)
        self.session.commit()

    def right(self) -> None:
        """Give the units back (in the caller's transaction, committed with the link)."""
        for counter in self.taken:
            self.session.execute(
                update(VerifyCounter).where(VerifyCounter.key == counter.key,
                                            VerifyCounter.count > 0)
                .values(count=VerifyCounter.count - 1)
                .execution_options(synchronize_session=False))


def reserve(session: Session, conversation_id: int, address: str | None, order_no: str,
            via: str) -> Attempt:
    """Reserve one attempt in every counter, or refuse all of it with 429 (audited)."""
    now = time.time()
    taken: list[Counter] = []
    for counter in counters(conversation_id, address, order_no):
        if not _take(session, counter, now):
            session.rollback()
            wait = _wait(session, counter, now)
            audit.record("verify_locked", actor_name="customer", order_no=order_no[:64],
                         conversation_id=conversation_id, via=via, limit=counter.kind,
                         retry_after=wait)
            session.commit()
            raise TooManyAttempts(_locked_message(counter.kind, wait), wait)
        taken.append(counter)
    session.commit()
    return Attempt(session, taken, order_no, conversation_id, via)


def _locked_message(kind: str, wait: int) -> str:
    minutes = max(1, (wait + 59) // 60)
    if kind == "order":
        return _("This order has had too many wrong answers; an agent can look it up for "
                 "you in the chat, or try again in %(minutes)s minutes.", minutes=minutes)
    if kind == "all":
        return _("Order checks are paused for a while; ask an agent in the chat, or try "
                 "again in %(minutes)s minutes.", minutes=minutes)
    return _("Too many wrong answers; ask an agent in the chat, or try again in "
             "%(minutes)s minutes.", minutes=minutes)
