"""Internal agent notes on orders: what a colleague needs to know before touching the order.

Notes are never shown to the customer and never edited or deleted, so the history of
what agents knew and when stays intact.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import OrderStore
from console import audit
from console.extensions import db
from console.models import User
from console.orders.models import NOTE_MAX, AgentNote


class InvalidNote(ValueError):
    """The note is empty or longer than NOTE_MAX."""

    code = "invalid_note"


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session


def clean_body(raw: object) -> str:
    """Trim the note; refuse empty or oversized ones (the limit keeps the page readable)."""
    body = str(raw or "").strip()
    if not body:
        raise InvalidNote("a note cannot be empty")
    if len(body) > NOTE_MAX:
        raise InvalidNote(f"a note is at most {NOTE_MAX} characters")
    return body


def add_note(store: OrderStore, order_no: str, raw: object, actor: User,
             session: Session | None = None) -> AgentNote:
    """Attach a note to an existing order (OrderNotFound otherwise), audited in one commit."""
    body = clean_body(raw)
    store.get(order_no)
    s = _session(session)
    note = AgentNote(order_no=order_no, body=body, author_id=actor.id, author_name=actor.name)
    s.add(note)
    s.flush()
    audit.record("note_added", actor=actor, order_no=order_no, note_id=note.id)
    s.commit()
    return note


def notes_for(order_no: str, session: Session | None = None, limit: int = 200) -> list[AgentNote]:
    """The order's notes, newest first (the latest word matters most on a busy order)."""
    rows = _session(session).execute(
        select(AgentNote).where(AgentNote.order_no == order_no)
        .order_by(AgentNote.created_at.desc(), AgentNote.id.desc()).limit(limit))
    return list(rows.scalars())
